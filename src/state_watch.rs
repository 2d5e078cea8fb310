//! Awaiting a service's state from async code (AIPerf's `initialized_event`, `started_event`, …).

use bevy_ecs::entity::{Entity, EntityHashMap};
use bevy_ecs::lifecycle::Despawn;
use bevy_ecs::observer::On;
use bevy_ecs::resource::Resource;
use bevy_ecs::system::ResMut;
use bevy_ecs::world::World;
use lifecycle_ecs_components::{Lifecycle, LifecycleFlags, LifecycleState, ServiceId};
use tokio::sync::watch;

use crate::builder::{EngineBuilder, EnginePlugin};
use crate::engine::Engine;
use crate::phase_step::{PhaseStep, StepContext};

/// The state-watch plugin: [`Engine::watch`] handles, published after every operation.
#[derive(Clone, Copy, Debug, Default)]
pub struct StateWatchPlugin;

impl EnginePlugin for StateWatchPlugin {
    fn build(&self, builder: &mut EngineBuilder) {
        builder.init_resource::<StateWatchInstalled>();
        builder.add_step(
            PhaseStep::AfterOperation,
            "state_watch::publish",
            publish_watched,
        );
    }

    fn name(&self) -> &str {
        "state_watch"
    }
}

/// Marks an engine built with the [`StateWatchPlugin`].
#[derive(Resource, Default)]
struct StateWatchInstalled;

/// A service's state as the engine last published it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Snapshot {
    state: LifecycleState,
    flags: LifecycleFlags,
    /// The service was despawned (its last state is kept).
    despawned: bool,
}

impl Snapshot {
    /// Whether the service is at, or has been through, `target` (the completion flags stand for
    /// AIPerf's events: `Initialized` is reached once initialization completed, even if the
    /// service has moved on since). A despawned service reaches nothing more.
    fn reached(self, target: LifecycleState) -> bool {
        if self.despawned {
            return false;
        }
        match target {
            LifecycleState::Initialized => self.flags.was_initialized(),
            LifecycleState::Running => self.flags.was_started(),
            LifecycleState::Stopped => self.flags.was_stopped(),
            other => self.state == other,
        }
    }
}

/// Waiting for a service's state failed instead of hanging (AIPerf's waiters just hang).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    /// The service ended FAILED before reaching the state.
    #[error("{service} failed before reaching {target}")]
    Failed {
        /// The service.
        service: ServiceId,
        /// The state that was awaited.
        target: LifecycleState,
    },
    /// The service stopped, so it can never reach the state.
    #[error("{service} stopped before reaching {target}")]
    Unreachable {
        /// The service.
        service: ServiceId,
        /// The state that was awaited.
        target: LifecycleState,
    },
    /// The service was despawned before reaching the state.
    #[error("{service} was despawned before reaching {target}")]
    Despawned {
        /// The service.
        service: ServiceId,
        /// The state that was awaited.
        target: LifecycleState,
    },
    /// The engine was dropped.
    #[error("the engine is gone")]
    EngineGone,
}

/// A handle that async code awaits a service's state with; see [`Engine::watch`].
///
/// The engine publishes the state of watched services when each operation ends (when their phase
/// is complete), so a waiter sees completed transitions, as AIPerf's events report them. A
/// despawned service is reported at once.
pub struct StateWatch {
    service: ServiceId,
    receiver: watch::Receiver<Snapshot>,
}

impl StateWatch {
    /// Resolves once the service is at, or has completed, `target`.
    ///
    /// # Errors
    /// [`WaitError::Failed`] if the service ends FAILED first (unless `target` is FAILED),
    /// [`WaitError::Unreachable`] if it stops first, [`WaitError::Despawned`] if it is despawned
    /// first, [`WaitError::EngineGone`] if the engine is dropped.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn wait_until(&mut self, target: LifecycleState) -> Result<(), WaitError> {
        let service = self.service;
        let outcome = self
            .receiver
            .wait_for(|snapshot| {
                snapshot.reached(target) || snapshot.state.is_terminal() || snapshot.despawned
            })
            .await
            .map(|snapshot| *snapshot)
            .map_err(|_| WaitError::EngineGone)?;
        if outcome.reached(target) {
            Ok(())
        } else if outcome.despawned {
            Err(WaitError::Despawned { service, target })
        } else if outcome.state == LifecycleState::Failed {
            Err(WaitError::Failed { service, target })
        } else {
            Err(WaitError::Unreachable { service, target })
        }
    }

    /// The service's state as last published.
    pub fn state(&self) -> LifecycleState {
        self.receiver.borrow().state
    }
}

impl Engine {
    /// A handle to await `entity`'s state from async code (`None` if it is not a service, or if
    /// the engine has no [`StateWatchPlugin`]: nothing would publish its states).
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::prelude::*;
    /// let mut engine = Engine::new();
    /// let service = engine.spawn(Lifecycle);
    /// let mut watch = engine.watch(service).unwrap();
    /// let waiter = std::thread::spawn(move || {
    ///     tokio::runtime::Builder::new_current_thread()
    ///         .build()
    ///         .unwrap()
    ///         .block_on(watch.wait_until(LifecycleState::Running))
    /// });
    /// engine.initialize_and_start(service);
    /// assert_eq!(waiter.join().unwrap(), Ok(()));
    /// ```
    pub fn watch(&mut self, entity: Entity) -> Option<StateWatch> {
        if !self.world.contains_resource::<StateWatchInstalled>() {
            return None;
        }
        let snapshot = self.snapshot(entity)?;
        let service = *self.service_id(entity)?;
        if !self.world.contains_resource::<Watchers>() {
            // The first watch: from now on a despawned watched service is reported at once.
            self.world.init_resource::<Watchers>();
            self.world.add_observer(report_despawned);
        }
        let mut watchers = self.world.resource_mut::<Watchers>();
        let receiver = match watchers.0.get(&entity) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(snapshot);
                watchers.0.insert(entity, sender);
                receiver
            }
        };
        Some(StateWatch { service, receiver })
    }

    fn snapshot(&self, entity: Entity) -> Option<Snapshot> {
        Some(Snapshot {
            state: self.state(entity)?,
            flags: self.flags(entity)?,
            despawned: false,
        })
    }
}

/// Publishes the state of every watched service; forgets watches nobody holds any more (the
/// plugin's `AfterOperation` step).
fn publish_watched(world: &mut World, _step: StepContext<'_>) {
    if world
        .get_resource::<Watchers>()
        .is_none_or(|watchers| watchers.0.is_empty())
    {
        return;
    }
    world.resource_scope(|world, mut watchers: bevy_ecs::world::Mut<Watchers>| {
        watchers.0.retain(|&entity, sender| {
            if sender.is_closed() {
                return false;
            }
            let snapshot = world
                .get::<LifecycleState>(entity)
                .zip(world.get::<LifecycleFlags>(entity));
            let Some((&state, &flags)) = snapshot else {
                // No longer a service (its lifecycle components were removed): as
                // good as despawned.
                mark_despawned(sender);
                return false;
            };
            let snapshot = Snapshot {
                state,
                flags,
                despawned: false,
            };
            sender.send_if_modified(|current| {
                let changed = *current != snapshot;
                *current = snapshot;
                changed
            });
            true
        });
    });
}

/// The watched services, each with the sender its watches subscribe to (a resource, created by
/// the first [`Engine::watch`], so the despawn observer can reach it).
#[derive(Resource, Default)]
struct Watchers(EntityHashMap<watch::Sender<Snapshot>>);

/// Tells the watches of a service that is being despawned, and forgets it.
fn report_despawned(despawn: On<Despawn<Lifecycle>>, mut watchers: ResMut<Watchers>) {
    if let Some(sender) = watchers.0.remove(&despawn.entity) {
        mark_despawned(&sender);
    }
}

fn mark_despawned(sender: &watch::Sender<Snapshot>) {
    sender.send_modify(|snapshot| snapshot.despawned = true);
}
