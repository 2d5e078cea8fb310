//! Exit errors: one record per failed phase of a service, in AIPerf's shape.

use bevy_ecs::component::Component;
use serde::{Deserialize, Serialize};

/// AIPerf's `ErrorDetails`: `{code, type, message}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// An optional numeric code.
    pub code: Option<i64>,
    /// The error's type name.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// The message.
    pub message: String,
}

/// AIPerf's `ExitErrorInfo`: why a service failed, and in which operation.
///
/// `operation` is, as AIPerf's `fail()` records it, the title of the state at the time of failure:
/// `"Initializing"`, `"Starting"` or `"Stopping"` for a failed phase (`type` [`HOOK_ERRORS_TYPE`],
/// `message` joining `"<Kind>.<hook>: <error>"` for each failed hook with commas, as AIPerf's
/// multi-error does), or `"Initialized"`, `"Running"`, `"Stopped"` when an ON_STATE_CHANGE hook
/// failed on entering that final state. A refused step of `initialize_and_start` records
/// `"Initialize"` / `"Start"` (`type` `"InvalidStateError"`).
///
/// A failure that came out of a named operation scope ([`try_operation`](crate::try_operation))
/// records the scope's name as given instead (`"Connect To DB"`), `type` = the scoped error's type
/// name and `message` = its message; when other hooks of the same phase failed too, they follow in
/// the message after `"; also failed: "` (comma-joined as above). One exit error per failed phase.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{ErrorDetails, ExitErrorInfo};
/// let info = ExitErrorInfo {
///     error_details: ErrorDetails {
///         code: None,
///         error_type: Some("HookErrors".into()),
///         message: "Worker.connect: refused".into(),
///     },
///     operation: "Initializing".into(),
///     service_id: Some("Worker_0a1b2c3d".into()),
/// };
/// let json = serde_json::to_value(&info).unwrap();
/// assert_eq!(json["error_details"]["type"], "HookErrors");
/// assert_eq!(json["operation"], "Initializing");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitErrorInfo {
    /// What went wrong.
    pub error_details: ErrorDetails,
    /// The operation (phase) that failed.
    pub operation: String,
    /// The failed service's id.
    pub service_id: Option<String>,
}

/// The `error_details.type` of a failed phase: the collected hook errors.
pub const HOOK_ERRORS_TYPE: &str = "HookErrors";

/// A service's exit errors, inserted when it fails (one per failed phase).
///
/// Stored in a sparse set: only failed services have it, and inserting it does not move the
/// service between tables.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::ExitErrors;
/// assert!(ExitErrors::default().as_slice().is_empty());
/// ```
#[derive(Component, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[component(storage = "SparseSet")]
pub struct ExitErrors(pub Vec<ExitErrorInfo>);

impl ExitErrors {
    /// The records, oldest first.
    pub fn as_slice(&self) -> &[ExitErrorInfo] {
        &self.0
    }
}
