//! What went wrong inside one hook for one service.

use std::sync::Arc;

use crate::{OperationError, ServiceId};

type BoxedError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error a hook produced for one service.
///
/// Like `anyhow::Error` or bevy's `BevyError`, anything that converts into
/// `Box<dyn Error + Send + Sync>` converts into a `HookError` (any error type, `&str`, `String`), so
/// hooks can use `?` freely. For that reason it does not itself implement `std::error::Error`;
/// [`HookError::source_error`] gives the wrapped error.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::HookError;
/// let err = HookError::from("disk full");
/// assert_eq!(err.to_string(), "disk full");
/// let io: HookError = std::io::Error::other("socket closed").into();
/// assert_eq!(io.type_name(), "Failed");
/// assert_eq!(HookError::Panicked("boom".into()).to_string(), "panicked: boom");
/// assert!(HookError::Lost.to_string().starts_with("lost: "));
/// ```
#[derive(Clone)]
pub enum HookError {
    /// The hook returned an error.
    Failed(Arc<dyn std::error::Error + Send + Sync + 'static>),
    /// The hook panicked; the panic message is kept.
    Panicked(String),
    /// Child services failed in this phase (the built-in children step's error).
    ChildrenFailed(Vec<ServiceId>),
    /// The hook's async work did not finish within its timeout.
    TimedOut {
        /// How long it had run when it was given up.
        elapsed: core::time::Duration,
    },
    /// The hook's async work was lost: the task driving its future ended before the future did
    /// (the runtime it ran on was shut down, or the task was aborted or panicked), so it can
    /// never finish.
    Lost,
}

impl HookError {
    /// A short name of the error's variant (`"Failed"`, `"Panicked"`, `"ChildrenFailed"`,
    /// `"TimedOut"`, `"Lost"`).
    pub const fn type_name(&self) -> &'static str {
        match self {
            Self::Failed(_) => "Failed",
            Self::Panicked(_) => "Panicked",
            Self::ChildrenFailed(_) => "ChildrenFailed",
            Self::TimedOut { .. } => "TimedOut",
            Self::Lost => "Lost",
        }
    }

    /// An error carrying only a message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self::Failed(Arc::from(BoxedError::from(message.into())))
    }

    /// The wrapped error of a [`HookError::Failed`].
    pub fn source_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Self::Failed(error) => Some(&**error),
            _ => None,
        }
    }

    /// The named operation scope this error came out of ([`try_operation`](crate::try_operation)
    /// or [`try_operation_async`](crate::try_operation_async)), if any: a
    /// [`HookError::Failed`] wrapping an [`OperationError`].
    pub fn operation_scope(&self) -> Option<&OperationError> {
        self.source_error()?.downcast_ref::<OperationError>()
    }
}

impl<E> From<E> for HookError
where
    BoxedError: From<E>,
{
    fn from(error: E) -> Self {
        Self::Failed(Arc::from(BoxedError::from(error)))
    }
}

impl core::fmt::Display for HookError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Failed(error) => write!(f, "{error}"),
            Self::Panicked(message) => write!(f, "panicked: {message}"),
            Self::ChildrenFailed(ids) => {
                f.write_str("child services failed: ")?;
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{id}")?;
                }
                Ok(())
            }
            Self::TimedOut { elapsed } => {
                write!(f, "timed out after {:.3}s", elapsed.as_secs_f64())
            }
            Self::Lost => f.write_str(
                "lost: the task driving its future ended first (its runtime was shut down, or \
                 the task was aborted or panicked)",
            ),
        }
    }
}

impl core::fmt::Debug for HookError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "HookError::{}({self})", self.type_name())
    }
}
