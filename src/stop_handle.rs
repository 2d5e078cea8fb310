//! Asking services to stop from anywhere: the [`StopHandle`] and the engine's pending requests.
//!
//! Plain data, low in the crate: the scheduler takes requests inside phases, and the control
//! plugin's methods carry them out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bevy_ecs::entity::{Entity, EntityHashSet};
use bevy_ecs::resource::Resource;
use tokio::sync::Notify;

/// Stop requests not yet carried out: each service at most once, however often it was asked.
///
/// # Example
/// ```
/// use lifecycle_ecs::prelude::*;
/// let mut engine = Engine::new();
/// let service = engine.spawn(Lifecycle);
/// let handle = engine.stop_handle();
/// handle.stop(service);
/// handle.stop_many([service, service]);
/// assert_eq!(engine.pending_stops().services(), &[service]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingStops {
    all: bool,
    /// In first-request order, without repeats (`requested` holds the same services).
    services: Vec<Entity>,
    requested: EntityHashSet,
}

impl PendingStops {
    /// Whether nothing is requested.
    pub fn is_empty(&self) -> bool {
        !self.all && self.services.is_empty()
    }

    /// Whether every service was asked to stop.
    pub fn all(&self) -> bool {
        self.all
    }

    /// The services asked to stop one by one, in first-request order, each once.
    pub fn services(&self) -> &[Entity] {
        &self.services
    }

    /// Whether `entity` is asked to stop.
    pub fn covers(&self, entity: Entity) -> bool {
        self.all || self.requested.contains(&entity)
    }

    /// Asks `entity` to stop (a repeated request changes nothing).
    pub fn add(&mut self, entity: Entity) {
        if self.requested.insert(entity) {
            self.services.push(entity);
        }
    }

    /// Asks every service to stop.
    pub fn add_all(&mut self) {
        self.all = true;
    }

    /// Adds `other`'s requests.
    pub fn merge(&mut self, other: PendingStops) {
        self.all |= other.all;
        if self.services.is_empty() {
            *self = PendingStops {
                all: self.all,
                ..other
            };
            return;
        }
        for entity in other.services {
            self.add(entity);
        }
    }

    /// Keeps only the requests for the services `keep` picks (the others are done). A stop-all
    /// stays.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(Entity) -> bool) {
        let requested = &mut self.requested;
        self.services.retain(|&entity| {
            let kept = keep(entity);
            if !kept {
                requested.remove(&entity);
            }
            kept
        });
    }

    /// Forgets every request (a stop of every service carried them all out).
    pub(crate) fn clear(&mut self) {
        *self = PendingStops::default();
    }
}

struct StopShared {
    pending: Mutex<PendingStops>,
    dirty: AtomicBool,
    wake: Arc<Notify>,
}

/// A cloneable, thread-safe handle that asks the engine to stop services, from another thread, a
/// tokio task, a hook (it is also a resource: `Res<StopHandle>`) or a signal handler.
///
/// The engine is `&mut` while an operation runs, so code outside it cannot call
/// [`Engine::stop`](crate::Engine::stop) then; the handle queues the request and wakes the engine:
/// - a service in the middle of an `initialize` or `start` phase has its hook futures
///   **cancelled** (dropped; listed in [`OperationReport::cancelled`](crate::OperationReport::cancelled), not as failures), runs no
///   further hook of that phase, skips the phase's final state and takes the stop path (ON_STOP
///   hooks, children) to STOPPED;
/// - any other request is carried out by the run loop ([`Engine::run`](crate::Engine::run)) or
///   [`Engine::process_stop_requests`](crate::Engine::process_stop_requests).
///
/// A `stop` phase is never cancelled: its hooks are the clean-up.
///
/// A service is stopped, and listed, once however many requests arrive for it, from however many
/// threads: requests are kept as a set, and a request is done once the service's stop was
/// requested (it is stopping, stopped or failed) or the service is gone.
///
/// # Example
/// ```
/// use lifecycle_ecs::prelude::*;
///
/// let mut engine = Engine::new();
/// let service = engine.spawn(Lifecycle);
/// engine.initialize_and_start(service);
/// let handle = engine.stop_handle();
/// std::thread::spawn(move || handle.stop(service)).join().unwrap();
/// let report = engine.process_stop_requests().expect("a request was queued");
/// assert_eq!(report.moved, 1);
/// assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
/// ```
#[derive(Clone, Resource)]
pub struct StopHandle {
    shared: Arc<StopShared>,
}

impl StopHandle {
    /// A handle that wakes `wake` on every request.
    pub(crate) fn new(wake: Arc<Notify>) -> Self {
        Self {
            shared: Arc::new(StopShared {
                pending: Mutex::new(PendingStops::default()),
                dirty: AtomicBool::new(false),
                wake,
            }),
        }
    }

    /// Asks `service` to stop (again: a repeated request changes nothing).
    pub fn stop(&self, service: Entity) {
        self.request(|pending| pending.add(service));
    }

    /// Asks these services to stop.
    pub fn stop_many(&self, services: impl IntoIterator<Item = Entity>) {
        self.request(|pending| {
            for service in services {
                pending.add(service);
            }
        });
    }

    /// Asks every service to stop: the services that exist when the request is carried out.
    ///
    /// Services in the middle of an `initialize` or `start` phase leave it at once (see above);
    /// the others are stopped by the next stop of every service ([`Engine::run`](crate::Engine::run),
    /// [`Engine::process_stop_requests`](crate::Engine::process_stop_requests), or any `stop(Selection::All)`). That stop carries the
    /// request out: services spawned after it are not affected.
    pub fn stop_all(&self) {
        self.request(PendingStops::add_all);
    }

    fn request(&self, add: impl FnOnce(&mut PendingStops)) {
        add(&mut self
            .shared
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
        self.shared.dirty.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }

    /// Whether requests arrived since the last [`take`](Self::take).
    pub(crate) fn has_new(&self) -> bool {
        self.shared.dirty.load(Ordering::Acquire)
    }

    /// Takes the requests that arrived (cheap when there are none).
    pub(crate) fn take(&self) -> Option<PendingStops> {
        if !self.shared.dirty.swap(false, Ordering::AcqRel) {
            return None;
        }
        let taken = std::mem::take(
            &mut *self
                .shared
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        (!taken.is_empty()).then_some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(index: u32) -> Entity {
        Entity::from_raw_u32(index).expect("a valid index")
    }

    #[test]
    fn requests_are_taken_once() {
        let handle = StopHandle::new(Arc::new(Notify::new()));
        assert!(handle.take().is_none());
        handle.stop(entity(1));
        handle.stop_many([entity(2), entity(3)]);
        assert!(handle.has_new());
        let taken = handle.take().expect("requests");
        assert_eq!(taken.services(), &[entity(1), entity(2), entity(3)]);
        assert!(!taken.all());
        assert!(handle.take().is_none(), "taken once");
    }

    #[test]
    fn repeated_requests_are_kept_once_in_first_request_order() {
        let handle = StopHandle::new(Arc::new(Notify::new()));
        handle.stop(entity(2));
        handle.stop_many([entity(1), entity(2), entity(1)]);
        let mut pending = handle.take().expect("requests");
        handle.stop_many([entity(3), entity(2)]);
        pending.merge(handle.take().expect("requests"));
        assert_eq!(pending.services(), &[entity(2), entity(1), entity(3)]);
        pending.retain(|service| service != entity(1));
        assert_eq!(pending.services(), &[entity(2), entity(3)]);
        assert!(!pending.covers(entity(1)));
        pending.add(entity(1));
        assert_eq!(pending.services(), &[entity(2), entity(3), entity(1)]);
    }

    #[test]
    fn stop_all_covers_every_service() {
        let handle = StopHandle::new(Arc::new(Notify::new()));
        handle.stop_all();
        let taken = handle.take().expect("requests");
        assert!(taken.covers(entity(42)));
    }
}
