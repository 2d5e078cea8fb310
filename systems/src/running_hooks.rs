//! What is running right now: the watchdog's view of sync hooks and hook futures.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bevy_ecs::resource::Resource;
use lifecycle_ecs_components::{HookType, ServiceId};

/// A hook (or one service's hook future) that is running, and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningHook {
    /// The service, for a hook future; `None` for a sync hook (it runs over a whole batch).
    pub service_id: Option<ServiceId>,
    /// The hook's name.
    pub hook: Arc<str>,
    /// The hook's type.
    pub hook_type: HookType,
    /// How long it has been running.
    pub elapsed: Duration,
}

/// A hook future that started (see [`RunningHooks::futures_changed`]).
#[derive(Clone, Debug)]
pub struct FutureStart {
    /// The future's id (unique per engine).
    pub id: u64,
    /// Its service.
    pub service_id: ServiceId,
    /// Its hook.
    pub hook: Arc<str>,
    /// The hook's type.
    pub hook_type: HookType,
}

struct SyncEntry {
    hook: Arc<str>,
    hook_type: HookType,
    started: std::time::Instant,
    warned: bool,
}

struct FutureEntry {
    service_id: ServiceId,
    hook: Arc<str>,
    hook_type: HookType,
    started: tokio::time::Instant,
}

#[derive(Default)]
struct Registry {
    sync_hook: Option<SyncEntry>,
    futures: HashMap<u64, FutureEntry>,
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
/// running.sync_started("connect".into(), HookType::OnInit);
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
        let registry = self.registry();
        let now = tokio::time::Instant::now();
        let sync = registry.sync_hook.as_ref().map(|entry| RunningHook {
            service_id: None,
            hook: entry.hook.clone(),
            hook_type: entry.hook_type,
            elapsed: entry.started.elapsed(),
        });
        let mut futures: Vec<RunningHook> = registry
            .futures
            .values()
            .map(|entry| RunningHook {
                service_id: Some(entry.service_id),
                hook: entry.hook.clone(),
                hook_type: entry.hook_type,
                elapsed: now.saturating_duration_since(entry.started),
            })
            .collect();
        futures.sort_by_key(|hook| core::cmp::Reverse(hook.elapsed));
        sync.into_iter().chain(futures).collect()
    }

    /// A sync hook started.
    pub fn sync_started(&self, hook: Arc<str>, hook_type: HookType) {
        self.registry().sync_hook = Some(SyncEntry {
            hook,
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
            hook: entry.hook.clone(),
            hook_type: entry.hook_type,
            elapsed: entry.started.elapsed(),
        })
    }

    /// Records hook futures that started and ones that finished, under one lock.
    pub fn futures_changed(&self, started: impl Iterator<Item = FutureStart>, finished: &[u64]) {
        let mut started = started.peekable();
        if started.peek().is_none() && finished.is_empty() {
            return;
        }
        let now = tokio::time::Instant::now();
        let mut registry = self.registry();
        for start in started {
            registry.futures.insert(
                start.id,
                FutureEntry {
                    service_id: start.service_id,
                    hook: start.hook,
                    hook_type: start.hook_type,
                    started: now,
                },
            );
        }
        for id in finished {
            registry.futures.remove(id);
        }
    }
}
