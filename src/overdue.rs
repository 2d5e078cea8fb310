//! Warnings about hooks running past the soft deadline: the async bridge reports hook futures
//! while it waits for them; the watchdog plugin's thread reports sync hooks.

use std::time::Duration;

use lifecycle_ecs_systems::{RunningHook, RunningHooks};

/// Logs one warning per hook future running longer than `deadline` (the async bridge calls this
/// at each soft deadline while it waits).
pub(crate) fn report_overdue_futures(running: &RunningHooks, deadline: Duration) {
    for hook in running.snapshot() {
        if hook.elapsed >= deadline && hook.service_id.is_some() {
            warn_overdue(&hook);
        }
    }
}

/// The watchdog's warning about one hook past the soft deadline.
pub(crate) fn warn_overdue(hook: &RunningHook) {
    let elapsed = hook.elapsed.as_secs_f64();
    match hook.service_id {
        Some(service) => tracing::warn!(
            service = %service,
            kind = hook.kind,
            hook = %hook.hook,
            hook_type = %hook.hook_type,
            elapsed_s = elapsed,
            "hook still running after {elapsed:.1}s"
        ),
        None => tracing::warn!(
            kind = hook.kind,
            hook = %hook.hook,
            hook_type = %hook.hook_type,
            elapsed_s = elapsed,
            "sync hook still running after {elapsed:.1}s (it cannot be interrupted)"
        ),
    }
}
