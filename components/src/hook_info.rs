//! What a registered hook is, as the engine lists it (AIPerf's `Hook` objects from `get_hooks`).

use std::sync::Arc;
use std::time::Duration;

use bevy_ecs::entity::Entity;

use crate::{BackgroundTaskParams, HookType};

/// The parameters a hook was registered with (AIPerf's decorator arguments).
///
/// AIPerf's hooks carry one `params` value each: the message types of an `@on_message`, the command
/// types of an `@on_command`, the interval of a `@background_task`. Here they are typed.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::HookParams;
/// let params = HookParams::topics(["credit_drop", "credit_return"]);
/// assert_eq!(params.topic_list().unwrap().len(), 2);
/// assert!(HookParams::None.topic_list().is_none());
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum HookParams {
    /// No parameters (AIPerf's `params=None`).
    #[default]
    None,
    /// Message, command or request types the hook handles, in the order given.
    Topics(Arc<[Arc<str>]>),
    /// A background task's interval and options.
    BackgroundTask(BackgroundTaskParams),
}

impl HookParams {
    /// Topic parameters from any list of strings.
    pub fn topics<S: Into<Arc<str>>>(topics: impl IntoIterator<Item = S>) -> Self {
        Self::Topics(topics.into_iter().map(Into::into).collect())
    }

    /// The topics, if these are topic parameters.
    pub fn topic_list(&self) -> Option<&[Arc<str>]> {
        match self {
            Self::Topics(topics) => Some(topics),
            _ => None,
        }
    }
}

/// One registered hook, as listed by the engine: its name, type, the kind that registered it, and
/// its parameters.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{HookInfo, HookParams, HookType};
/// let info = HookInfo {
///     name: "connect".into(),
///     hook_type: HookType::OnInit,
///     kind: "Worker",
///     attached_to: None,
///     timeout: None,
///     params: HookParams::None,
/// };
/// assert_eq!(info.to_string(), "Worker.connect (@on_init)");
/// ```
#[derive(Clone, Debug)]
pub struct HookInfo {
    /// The hook's name (its function's name unless given).
    pub name: Arc<str>,
    /// The hook type it runs for.
    pub hook_type: HookType,
    /// The kind that registered it; for an attached hook, the service's own kind.
    pub kind: &'static str,
    /// The service it is attached to (AIPerf's `attach_hook`), or `None` for a kind's hook.
    pub attached_to: Option<Entity>,
    /// Its own timeout for async work (`None`: the engine's default).
    pub timeout: Option<Duration>,
    /// Its parameters.
    pub params: HookParams,
}

impl core::fmt::Display for HookInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.attached_to {
            None => write!(f, "{}.{} ({})", self.kind, self.name, self.hook_type),
            Some(entity) => write!(
                f,
                "{}.{} ({}, attached to {entity})",
                self.kind, self.name, self.hook_type
            ),
        }
    }
}
