//! What is running right now: the watchdog's view of sync hooks and hook futures.

use core::time::Duration;
use std::sync::{Arc, Mutex, PoisonError};

use bevy_ecs::resource::Resource;
use lifecycle_ecs_components::{HookType, ServiceId};

/// A hook (or one service's hook future) that is running, and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningHook {
    /// The service, for a hook future; `None` for a sync hook (it runs over a whole batch).
    pub service_id: Option<ServiceId>,
    /// The kind the hook was registered for (for a hook future: its service's kind).
    pub kind: &'static str,
    /// The hook's name.
    pub hook: Arc<str>,
    /// The hook's type.
    pub hook_type: HookType,
    /// How long it has been running.
    pub elapsed: Duration,
}

/// A live view of hook futures in flight, registered by whoever runs them (the engine's async
/// bridge). [`RunningHooks::snapshot`] asks each registered view to list its futures, so starting
/// and finishing a future costs the registry nothing.
pub trait InFlightView: Send + Sync {
    /// Appends every future still running, with its elapsed time measured at `now`.
    fn list_running(&self, now: tokio::time::Instant, out: &mut Vec<RunningHook>);
}

/// The key of a registered [`InFlightView`], to remove it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InFlightKey(u64);

struct SyncEntry {
    hook: Arc<str>,
    kind: &'static str,
    hook_type: HookType,
    started: std::time::Instant,
    warned: bool,
}

#[derive(Default)]
struct Registry {
    sync_hook: Option<SyncEntry>,
    views: Vec<(u64, Arc<dyn InFlightView>)>,
    next_key: u64,
}

/// The hooks running right now, shared with the watchdog and with other threads (clone it; every
/// clone sees the same registry). Sync hooks are timed on the wall clock (the watchdog thread
/// cannot interrupt them, only report them); hook futures on tokio's clock.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::HookType;
/// use lifecycle_ecs_systems::RunningHooks;
/// let running = RunningHooks::default();
/// running.sync_started("connect".into(), "Worker", HookType::OnInit);
/// assert_eq!(running.snapshot().len(), 1);
/// running.sync_finished();
/// assert!(running.snapshot().is_empty());
/// ```
#[derive(Resource, Clone, Default)]
pub struct RunningHooks(Arc<Mutex<Registry>>);

impl RunningHooks {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every hook running now: the sync hook (if any), then each hook future.
    pub fn snapshot(&self) -> Vec<RunningHook> {
        let (sync, views) = {
            let registry = self.registry();
            let sync = registry.sync_hook.as_ref().map(|entry| RunningHook {
                service_id: None,
                kind: entry.kind,
                hook: entry.hook.clone(),
                hook_type: entry.hook_type,
                elapsed: entry.started.elapsed(),
            });
            let views: Vec<Arc<dyn InFlightView>> = registry
                .views
                .iter()
                .map(|(_, view)| view.clone())
                .collect();
            (sync, views)
        };
        // The views are listed outside the registry's lock (each takes its own).
        let now = tokio::time::Instant::now();
        let mut futures = Vec::new();
        for view in &views {
            view.list_running(now, &mut futures);
        }
        futures.sort_by_key(|hook| core::cmp::Reverse(hook.elapsed));
        sync.into_iter().chain(futures).collect()
    }

    /// A sync hook started.
    pub fn sync_started(&self, hook: Arc<str>, kind: &'static str, hook_type: HookType) {
        self.registry().sync_hook = Some(SyncEntry {
            hook,
            kind,
            hook_type,
            started: std::time::Instant::now(),
            warned: false,
        });
    }

    /// The sync hook finished.
    pub fn sync_finished(&self) {
        self.registry().sync_hook = None;
    }

    /// The running sync hook if it has run for longer than `deadline` and was not reported yet
    /// (each run is reported once).
    pub fn overdue_sync_hook(&self, deadline: Duration) -> Option<RunningHook> {
        let mut registry = self.registry();
        let entry = registry.sync_hook.as_mut()?;
        if entry.warned || entry.started.elapsed() < deadline {
            return None;
        }
        entry.warned = true;
        Some(RunningHook {
            service_id: None,
            kind: entry.kind,
            hook: entry.hook.clone(),
            hook_type: entry.hook_type,
            elapsed: entry.started.elapsed(),
        })
    }

    /// Registers a view of futures in flight; [`snapshot`](Self::snapshot) lists them until
    /// [`remove_view`](Self::remove_view).
    pub fn add_view(&self, view: Arc<dyn InFlightView>) -> InFlightKey {
        let mut registry = self.registry();
        let key = registry.next_key;
        registry.next_key += 1;
        registry.views.push((key, view));
        InFlightKey(key)
    }

    /// Removes a view added by [`add_view`](Self::add_view).
    pub fn remove_view(&self, key: InFlightKey) {
        self.registry().views.retain(|(id, _)| *id != key.0);
    }
}
