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

use bevy_ecs::resource::Resource;
use lifecycle_ecs_systems::RunningHooks;

use crate::builder::{EngineBuilder, EnginePlugin};
use crate::engine::Engine;
use crate::overdue::warn_overdue;

/// The watchdog plugin: a thread reporting sync hooks past the soft deadline
/// ([`EngineBuilder::soft_deadline`]). Its thread lives in a World resource and is stopped and
/// joined when the engine is dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct WatchdogPlugin;

impl EnginePlugin for WatchdogPlugin {
    fn build(&self, builder: &mut EngineBuilder) {
        builder.on_build(|world, settings| {
            let running = world.resource::<RunningHooks>().clone();
            let thread = WatchdogThread::start(running, settings.soft_deadline());
            world.insert_resource(thread);
        });
    }

    fn name(&self) -> &str {
        "watchdog"
    }
}

/// The thread watching sync hooks; stopped and joined when the engine is dropped.
#[derive(Resource)]
struct WatchdogThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl WatchdogThread {
    /// Starts watching `running` for sync hooks past `deadline`.
    fn start(running: RunningHooks, deadline: Duration) -> Self {
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

    /// Whether a watchdog thread watches this engine's sync hooks (the [`WatchdogPlugin`]).
    pub fn has_watchdog(&self) -> bool {
        self.world
            .get_resource::<WatchdogThread>()
            .is_some_and(|watchdog| watchdog.thread.is_some())
    }
}
