//! [`TaskContext`]: what one run of an async background task gets.

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::ServiceId;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// What one run of an async background task gets: its service, the data prepared for it when
/// it started, and the service's cancellation token.
///
/// # Example
/// ```
/// use lifecycle_ecs::TaskContext;
/// async fn poll_endpoint(context: TaskContext<String>) -> Result<(), lifecycle_ecs::HookError> {
///     tokio::select! {
///         () = context.cancelled() => Ok(()), // the service is stopping: return promptly
///         () = std::future::ready(()) => {
///             let _url: &str = &context.data; // … await the endpoint …
///             Ok(())
///         }
///     }
/// }
/// # drop(poll_endpoint);
/// ```
#[derive(Clone, Debug)]
pub struct TaskContext<S = ()> {
    /// The service.
    pub entity: Entity,
    /// Its id.
    pub service_id: ServiceId,
    /// What the task's `prepare` read from the service when the task started.
    pub data: S,
    pub(crate) token: CancellationToken,
}

impl<S> TaskContext<S> {
    /// Resolves when the service's task is cancelled (its service is stopping).
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// Whether the service's task is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// The service's cancellation token (clone it into sub-tasks).
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}
