//! The watchdog: reports hooks that run past the soft deadline.
//!
//! Hook futures are watched by the engine while it waits for them (a warning per service and hook
//! at every soft deadline). A sync hook cannot be interrupted, so a thread watches it: once a sync
//! hook has run past the soft deadline it is reported (once per run). [`Engine::running_hooks`]
//! gives a handle that lists what is running right now, from any thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use lifecycle_ecs_systems::{RunningHook, RunningHooks};

use crate::engine::Engine;

/// The thread watching sync hooks; stopped and joined when the engine is dropped.
pub(crate) struct WatchdogThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl WatchdogThread {
    /// Starts watching `running` for sync hooks past `deadline`.
    pub(crate) fn start(running: RunningHooks, deadline: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let poll = (deadline / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
        let thread = std::thread::Builder::new()
            .name("lifecycle-watchdog".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::park_timeout(poll);
                    if let Some(hook) = running.overdue_sync_hook(deadline) {
                        warn_overdue(&hook);
                    }
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for WatchdogThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl Engine {
    /// A handle listing the hooks running right now (service, hook, elapsed); usable from other
    /// threads and tasks while the engine is busy.
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::Engine;
    /// let engine = Engine::new();
    /// let running = engine.running_hooks();
    /// assert!(running.snapshot().is_empty());
    /// ```
    pub fn running_hooks(&self) -> RunningHooks {
        self.world.resource::<RunningHooks>().clone()
    }
}

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
fn warn_overdue(hook: &RunningHook) {
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
