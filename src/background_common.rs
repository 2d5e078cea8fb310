//! What both forms of background tasks share: the plugin's name, the stop check, per-service
//! intervals and the failure record of a task.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bevy_ecs::world::EntityRef;
use lifecycle_ecs_components::{HookError, HookFailure, HookType, LifecycleFlags, ServiceId};
use tokio::time::Duration;

/// The background plugin's name.
pub(crate) const BACKGROUND_PLUGIN: &str = "background";

/// Whether a service's stop was requested.
pub(crate) fn stop_requested(service: EntityRef<'_>) -> bool {
    service
        .get::<LifecycleFlags>()
        .is_some_and(|flags| flags.stop_requested())
}

/// Evaluates a per-service interval, catching a panic in it.
pub(crate) fn per_service_interval(
    of: &Arc<dyn Fn(EntityRef<'_>) -> Duration + Send + Sync>,
    service: EntityRef<'_>,
) -> Result<Duration, HookError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| of(service)))
        .map_err(lifecycle_ecs_systems::panicked)
}

/// A failure of background task `task` for `service`.
pub(crate) fn task_failure(
    service: EntityRef<'_>,
    task: &Arc<str>,
    error: HookError,
) -> HookFailure {
    HookFailure {
        entity: service.id(),
        service_id: service.get::<ServiceId>().copied().unwrap_or_default(),
        hook: task.clone(),
        hook_type: HookType::BackgroundTask,
        error,
    }
}
