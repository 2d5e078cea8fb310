//! Awaiting a service's state from async code (AIPerf's `initialized_event`, `started_event`, …).

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::{LifecycleFlags, LifecycleState, ServiceId};
use tokio::sync::watch;

use crate::engine::Engine;

/// A service's state as the engine last published it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    state: LifecycleState,
    flags: LifecycleFlags,
}

impl Snapshot {
    /// Whether the service is at, or has been through, `target` (the completion flags stand for
    /// AIPerf's events: `Initialized` is reached once initialization completed, even if the
    /// service has moved on since).
    fn reached(self, target: LifecycleState) -> bool {
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
    /// The engine was dropped.
    #[error("the engine is gone")]
    EngineGone,
}

/// A handle that async code awaits a service's state with; see [`Engine::watch`].
///
/// The engine publishes the state of watched services when each operation ends (when their phase
/// is complete), so a waiter sees completed transitions, as AIPerf's events report them.
pub struct StateWatch {
    service: ServiceId,
    receiver: watch::Receiver<Snapshot>,
}

impl StateWatch {
    /// Resolves once the service is at, or has completed, `target`.
    ///
    /// # Errors
    /// [`WaitError::Failed`] if the service ends FAILED first (unless `target` is FAILED),
    /// [`WaitError::Unreachable`] if it stops first, [`WaitError::EngineGone`] if the engine is
    /// dropped.
    pub async fn wait_until(&mut self, target: LifecycleState) -> Result<(), WaitError> {
        let service = self.service;
        let outcome = self
            .receiver
            .wait_for(|snapshot| snapshot.reached(target) || snapshot.state.is_terminal())
            .await
            .map(|snapshot| *snapshot)
            .map_err(|_| WaitError::EngineGone)?;
        if outcome.reached(target) {
            Ok(())
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
    /// A handle to await `entity`'s state from async code (`None` if it is not a service).
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
        let snapshot = self.snapshot(entity)?;
        let service = *self.service_id(entity)?;
        let receiver = match self.watchers.get(&entity) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(snapshot);
                self.watchers.insert(entity, sender);
                receiver
            }
        };
        Some(StateWatch { service, receiver })
    }

    fn snapshot(&self, entity: Entity) -> Option<Snapshot> {
        Some(Snapshot {
            state: self.state(entity)?,
            flags: self.flags(entity)?,
        })
    }

    /// Publishes the state of every watched service; forgets watches nobody holds any more.
    pub(crate) fn publish_watched(&mut self) {
        if self.watchers.is_empty() {
            return;
        }
        let mut gone = Vec::new();
        for (&entity, sender) in &self.watchers {
            match self.snapshot(entity) {
                Some(snapshot) if !sender.is_closed() => {
                    sender.send_if_modified(|current| {
                        let changed = *current != snapshot;
                        *current = snapshot;
                        changed
                    });
                }
                _ => gone.push(entity),
            }
        }
        for entity in gone {
            self.watchers.remove(&entity);
        }
    }
}
