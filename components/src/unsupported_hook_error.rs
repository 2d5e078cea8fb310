//! Registering or attaching a hook whose type the kind does not provide.

use crate::{HookType, HookTypeSet};

/// A hook's type is not provided by its kind or any of the kind's bases (AIPerf's
/// `UnsupportedHookError`), raised at registration, before any service exists.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{HookType, HookTypeSet, UnsupportedHookError};
/// let err = UnsupportedHookError {
///     hook_type: HookType::OnMessage,
///     kind: "Worker",
///     provided: HookTypeSet::from_slice(&[HookType::OnInit]),
/// };
/// assert_eq!(
///     err.to_string(),
///     "Hook @on_message is not provided by any base kind of Worker. (Provided Hooks: [@on_init])"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Hook {hook_type} is not provided by any base kind of {kind}. (Provided Hooks: {provided})"
)]
pub struct UnsupportedHookError {
    /// The hook type that was asked for.
    pub hook_type: HookType,
    /// The kind the hook was registered or attached for.
    pub kind: &'static str,
    /// Every hook type the kind provides, its bases' included.
    pub provided: HookTypeSet,
}
