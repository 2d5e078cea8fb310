//! Async hooks: a hook hands a future per service to the engine, which runs it on tokio (on the
//! runtime awaiting the operation, or the engine's own when a blocking operation waits).

use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;
use bevy_ecs::system::{Query, Res, ResMut, SystemParam};
use lifecycle_ecs_components::{HookError, HookType, ServiceId};

use crate::PhaseContext;

/// A boxed hook future: the async part of one hook for one service.
pub type HookFuture = Pin<Box<dyn Future<Output = Result<(), HookError>> + Send + 'static>>;

/// A future a hook handed over, waiting for the engine to run it.
pub struct QueuedHookFuture {
    /// The service it belongs to.
    pub entity: Entity,
    /// The service's id.
    pub service_id: ServiceId,
    /// The hook that spawned it.
    pub hook: Arc<str>,
    /// The hook's type.
    pub hook_type: HookType,
    /// The hook's own timeout, if it has one (else the engine's default applies).
    pub timeout: Option<Duration>,
    /// The work.
    pub future: HookFuture,
}

/// Futures handed over by the hook that is running; the engine takes them after the hook.
///
/// (A `Mutex` only to make the `Send`-only futures a `Sync` resource; it is never contended:
/// access goes through `&mut`.)
#[derive(Resource, Default)]
pub struct HookFutures {
    queued: std::sync::Mutex<Vec<QueuedHookFuture>>,
}

impl HookFutures {
    fn queue(&mut self) -> &mut Vec<QueuedHookFuture> {
        self.queued
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes every queued future.
    pub fn take(&mut self) -> Vec<QueuedHookFuture> {
        core::mem::take(self.queue())
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_empty()
    }
}

/// The system parameter a hook uses to hand async work (I/O) for a service to the engine.
///
/// The service stays in its transient state until every future it got in this phase finished;
/// results count exactly like a sync hook's (collect-all, fail path, exit errors). The next hook
/// of the phase starts for the batch once this hook's futures are done (a barrier per hook), so
/// sync and async hooks keep their order. A future that does not finish within the hook's timeout
/// (the engine's default, 30 s, unless the hook has its own) fails its service with
/// [`HookError::TimedOut`]; a panicking future fails it with the panic message.
///
/// Cancellation: a future is dropped (so cancelled at the `.await` it is parked on) when it times
/// out, when a stop request for its service arrives during an `initialize` or `start` phase (the
/// service then takes the stop path; a `stop` phase's futures are never cancelled by a request),
/// or when the wait for it is abandoned (a shutdown whose budget ran out). Code that must run
/// regardless belongs in a `Drop` guard or an ON_STOP hook.
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs_components::HookError;
/// use lifecycle_ecs_systems::{HookTasks, Targets};
/// # use lifecycle_ecs_components::{Lifecycle, ServiceKind};
/// # #[derive(Component, Default)] #[require(Lifecycle)] struct Worker;
/// # impl ServiceKind for Worker { const NAME: &'static str = "Worker"; type Bases = (Lifecycle,); }
///
/// fn connect(mut targets: Targets<Worker>, mut tasks: HookTasks) {
///     targets.for_each(|entity, ()| {
///         tasks.spawn(entity, async move {
///             // await a socket, a file, a timer …
///             Ok::<(), HookError>(())
///         });
///     });
/// }
/// # bevy_ecs::system::assert_is_system(connect);
/// ```
#[derive(SystemParam)]
pub struct HookTasks<'w, 's> {
    futures: ResMut<'w, HookFutures>,
    context: Res<'w, PhaseContext>,
    ids: Query<'w, 's, &'static ServiceId>,
}

impl HookTasks<'_, '_> {
    /// Hands `future` for `entity` to the engine. Does nothing if `entity` is not a service.
    pub fn spawn<E: Into<HookError>>(
        &mut self,
        entity: Entity,
        future: impl Future<Output = Result<(), E>> + Send + 'static,
    ) {
        let Ok(service_id) = self.ids.get(entity) else {
            return;
        };
        let (hook, hook_type, timeout) = match self.context.hook() {
            Some(active) => (active.name.clone(), active.hook_type, active.timeout),
            None => (
                Arc::from("<unknown hook>"),
                HookType::Custom("<none>"),
                None,
            ),
        };
        self.futures.queue().push(QueuedHookFuture {
            entity,
            service_id: *service_id,
            hook,
            hook_type,
            timeout,
            future: Box::pin(async move { future.await.map_err(Into::into) }),
        });
    }
}

/// Which hooks of the running schedule already ran, and whether the schedule must pause for
/// futures (the per-hook barrier).
///
/// The engine runs a hook schedule; a hook that handed over futures sets `blocked`, so the hooks
/// after it skip this run. The engine awaits the futures, then runs the schedule again: the hooks
/// that already ran skip, the rest run. With only sync hooks a phase is one pass.
#[derive(Resource, Default, Debug)]
pub struct HookProgress {
    /// One bit per hook slot that ran in this phase (slots are handed out densely, one per
    /// registered hook, so this is as long as the hooks registered, in bits).
    done: Vec<u64>,
    blocked: bool,
}

impl HookProgress {
    /// Whether hook `slot` should run now.
    pub fn ready(&self, slot: u32) -> bool {
        !self.blocked && !self.ran(slot)
    }

    fn ran(&self, slot: u32) -> bool {
        self.done
            .get((slot / 64) as usize)
            .is_some_and(|word| word & (1 << (slot % 64)) != 0)
    }

    /// Whether a hook of this run left futures to await (the hooks after it wait).
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Marks hook `slot` done; `blocked` when it left futures to await.
    pub fn finish(&mut self, slot: u32, blocked: bool) {
        let word = (slot / 64) as usize;
        if word >= self.done.len() {
            self.done.resize(word + 1, 0);
        }
        self.done[word] |= 1 << (slot % 64);
        self.blocked |= blocked;
    }

    /// Whether the schedule paused for futures; clears the pause.
    pub fn take_blocked(&mut self) -> bool {
        core::mem::take(&mut self.blocked)
    }

    /// Forgets which hooks ran (the phase is over).
    pub fn reset(&mut self) {
        self.done.iter_mut().for_each(|word| *word = 0);
        self.blocked = false;
    }
}

#[cfg(test)]
mod tests {
    use super::HookProgress;

    #[test]
    fn a_hook_is_ready_until_it_ran_and_every_hook_waits_while_one_is_blocked() {
        let mut progress = HookProgress::default();
        assert!(progress.ready(0) && progress.ready(200));
        progress.finish(200, false);
        assert!(!progress.ready(200), "ran in this phase");
        assert!(progress.ready(199) && progress.ready(0));
        progress.finish(3, true);
        assert!(!progress.ready(4), "a blocked run holds every later hook");
        assert!(progress.take_blocked());
        assert!(progress.ready(4) && !progress.ready(3));
        progress.finish(10_000, false);
        assert!(!progress.ready(10_000));
        progress.reset();
        assert!(progress.ready(3) && progress.ready(200) && progress.ready(10_000));
    }
}
