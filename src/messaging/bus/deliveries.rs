//! [`Deliveries`]: the system parameter of an ON_MESSAGE hook — every (subscriber service,
//! message) pair of the round for its kind and message types, in one pass.

use core::marker::PhantomData;
use core::ops::Deref;
use std::panic::AssertUnwindSafe;

use bevy_ecs::entity::Entity;
use bevy_ecs::query::{IterQueryData, With};
use bevy_ecs::system::{Query, Res, ResMut, SystemParam};
use lifecycle_ecs_components::{HookError, LifecycleState, ServiceId, ServiceKind};

use super::round::HandlerFailure;
use super::{BusRound, Receivable, Target, View};
use crate::kind_registry::KindServiceTypes;

type DeliveryQuery<'w, 's, K, D> = Query<'w, 's, (Entity, &'static LifecycleState, D), With<K>>;

/// One message delivered to one service: the message (`Deref`s to it), who sent it, and how it
/// was targeted.
pub struct Delivery<'a, M> {
    message: &'a M,
    sender: Option<Entity>,
    target: &'a Target,
}

impl<M> Clone for Delivery<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Delivery<'_, M> {}

impl<'a, M> Delivery<'a, M> {
    /// The message.
    pub fn message(&self) -> &'a M {
        self.message
    }

    /// The service that published it (`None`: published from outside any service).
    pub fn sender(&self) -> Option<Entity> {
        self.sender
    }

    /// How it was targeted.
    pub fn target(&self) -> &'a Target {
        self.target
    }
}

impl<M> Deref for Delivery<'_, M> {
    type Target = M;
    fn deref(&self) -> &M {
        self.message
    }
}

/// Whether a service in `state` is subscribed: from the moment it enters INITIALIZING (AIPerf
/// subscribes in an ON_INIT hook) until it is STOPPED or FAILED.
#[inline(always)]
pub(crate) fn is_subscribed(state: LifecycleState) -> bool {
    matches!(
        state,
        LifecycleState::Initializing
            | LifecycleState::Initialized
            | LifecycleState::Starting
            | LifecycleState::Running
            | LifecycleState::Stopping
    )
}

/// The messages of this bus round for an ON_MESSAGE hook of kind `K`: each (subscriber, message)
/// pair once, with the subscriber's `D` components.
///
/// A hook registered for message types (its [`HookConfig::topics`](crate::HookConfig::topics))
/// sees, for each of those types, in publish order: the broadcasts (delivered to every
/// subscribed service of kind `K`, the sender included), the messages targeted at a service
/// type (every subscribed `K` of that type) and those targeted at one service (if it is a
/// subscribed `K`). A service is subscribed from INITIALIZING until STOPPED or FAILED.
///
/// `M` is the message type to read: the published value is borrowed (no copy, no decoding); a
/// message of another representation (a [`RawMessage`](crate::messaging::RawMessage) of the
/// type, say) is converted, and one that cannot be read as `M` is a handler error.
///
/// Handler calls are isolated: an `Err` or a panic is counted for the hook in the
/// [`BusReport`](super::BusReport) and logged; it never fails the service (AIPerf swallows
/// handler errors), and the other deliveries still run.
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs::prelude::*;
/// use lifecycle_ecs::messaging::MessageBusClient;
/// use lifecycle_ecs::messaging::bus::{Deliveries, Target};
/// use lifecycle_ecs::messaging::RawMessage;
///
/// #[derive(Component, Default, Clone)]
/// #[require(MessageBusClient)]
/// struct Worker;
/// impl ServiceKind for Worker {
///     const NAME: &'static str = "Worker";
///     type Bases = (MessageBusClient,);
/// }
///
/// #[derive(Component, Default)]
/// struct Pings(u32);
///
/// fn count_pings(mut deliveries: Deliveries<Worker, RawMessage, &mut Pings>) {
///     deliveries.for_each(|_, _ping, mut pings| pings.0 += 1);
/// }
///
/// let mut engine = Engine::new();
/// engine
///     .add_hook_with::<Worker, _>(HookType::OnMessage, HookConfig::named("count_pings").topics(["ping"]), count_pings)
///     .unwrap();
/// let workers = engine.spawn_batch_with(Worker, 3, |_| Pings(0));
/// engine.initialize(Selection::All);
/// engine.publish(None, Target::Broadcast, RawMessage::new("ping", Default::default())).unwrap();
/// engine.publish(None, Target::Service(workers[1]), RawMessage::new("ping", Default::default())).unwrap();
/// engine.pump_messages();
/// let pings: Vec<u32> = workers.iter().map(|&w| engine.world().get::<Pings>(w).unwrap().0).collect();
/// assert_eq!(pings, [1, 2, 1]);
/// assert_eq!(engine.bus_report().unwrap().delivered, 4);
/// ```
#[derive(SystemParam)]
pub struct Deliveries<'w, 's, K: ServiceKind, M: Receivable, D: IterQueryData + 'static = ()> {
    query: DeliveryQuery<'w, 's, K, D>,
    /// Read only for messages targeted at a service type.
    ids: Query<'w, 's, &'static ServiceId, With<K>>,
    round: ResMut<'w, BusRound>,
    types: Res<'w, KindServiceTypes>,
    marker: PhantomData<fn() -> M>,
}

impl<'w, 's, K: ServiceKind, M: Receivable, D: IterQueryData + 'static>
    Deliveries<'w, 's, K, M, D>
{
    /// Calls `f` for every delivery of the round, in publish order per message type.
    pub fn for_each(&mut self, mut f: impl FnMut(Entity, Delivery<'_, M>, D::Item<'_, 's>)) {
        self.try_for_each(|entity, delivery, item| {
            f(entity, delivery, item);
            Ok::<(), HookError>(())
        });
    }

    /// Calls `f` for every delivery of the round; an `Err` (or a panic) is counted as a handler
    /// error of this hook, and the remaining deliveries still run.
    pub fn try_for_each<E: Into<HookError>>(
        &mut self,
        mut f: impl FnMut(Entity, Delivery<'_, M>, D::Item<'_, 's>) -> Result<(), E>,
    ) {
        let round = &mut *self.round;
        let topics = round.hook_topics.clone();
        let mut calls = 0_u64;
        let mut failures: Vec<HandlerFailure> = Vec::new();
        for &topic in topics.iter() {
            if !round.has(topic) {
                continue;
            }
            let indices: Vec<usize> = round.indices(topic).collect();
            for index in indices {
                // Bounds checked once here; the vectors have one entry per envelope.
                if index >= round.envelopes.len() {
                    continue;
                }
                let envelope = &round.envelopes[index];
                let view = match read::<M>(&*envelope.payload) {
                    Ok(view) => view,
                    Err(error) => {
                        failures.push(HandlerFailure { error });
                        continue;
                    }
                };
                let message: &M = &view;
                let sender = envelope.sender;
                let target = &envelope.target;
                let mut call = |entity: Entity, item: D::Item<'_, 's>| {
                    let delivery = Delivery {
                        message,
                        sender,
                        target,
                    };
                    calls_for(&mut f, entity, delivery, item, &mut failures);
                };
                let reached = match target {
                    Target::Broadcast => {
                        let mut n = 0_u32;
                        for (entity, state, item) in self.query.iter_mut() {
                            if is_subscribed(*state) {
                                n += 1;
                                call(entity, item);
                            }
                        }
                        n
                    }
                    Target::Service(entity) => match self.query.get_mut(*entity) {
                        Ok((entity, state, item)) if is_subscribed(*state) => {
                            call(entity, item);
                            1
                        }
                        _ => 0,
                    },
                    Target::ServiceType(wanted) => {
                        let matching = kinds_of_type(&self.types, wanted);
                        let mut n = 0_u32;
                        if !matching.is_empty() {
                            for (entity, state, item) in self.query.iter_mut() {
                                if is_subscribed(*state)
                                    && self
                                        .ids
                                        .get(entity)
                                        .is_ok_and(|id| matching.contains(&id.kind().index()))
                                {
                                    n += 1;
                                    call(entity, item);
                                }
                            }
                        }
                        n
                    }
                };
                calls += u64::from(reached);
                round.reached[index] = round.reached[index].saturating_add(reached);
                drop(view);
            }
        }
        round.hook_deliveries += calls;
        round.hook_failures.append(&mut failures);
    }

    /// How many deliveries this hook has in the round.
    pub fn count(&mut self) -> usize {
        let mut n = 0;
        // Counting must not count as delivering: look, do not call.
        let round = &*self.round;
        for &topic in round.hook_topics.iter() {
            for index in round.indices(topic) {
                let envelope = &round.envelopes[index];
                if read::<M>(&*envelope.payload).is_err() {
                    continue;
                }
                n += match &envelope.target {
                    Target::Broadcast => self
                        .query
                        .iter()
                        .filter(|(_, state, _)| is_subscribed(**state))
                        .count(),
                    Target::Service(entity) => usize::from(
                        self.query
                            .get(*entity)
                            .is_ok_and(|(_, state, _)| is_subscribed(*state)),
                    ),
                    Target::ServiceType(wanted) => {
                        let matching = kinds_of_type(&self.types, wanted);
                        self.query
                            .iter()
                            .filter(|(entity, state, _)| {
                                is_subscribed(**state)
                                    && self
                                        .ids
                                        .get(*entity)
                                        .is_ok_and(|id| matching.contains(&id.kind().index()))
                            })
                            .count()
                    }
                };
            }
        }
        n
    }
}

/// One isolated handler call: an error or a panic is kept as a failure of the hook.
#[inline(always)]
fn calls_for<M, I, E: Into<HookError>>(
    f: &mut impl FnMut(Entity, Delivery<'_, M>, I) -> Result<(), E>,
    entity: Entity,
    delivery: Delivery<'_, M>,
    item: I,
    failures: &mut Vec<HandlerFailure>,
) {
    match std::panic::catch_unwind(AssertUnwindSafe(|| f(entity, delivery, item))) {
        Ok(Ok(())) => {}
        Ok(Err(error)) => failures.push(HandlerFailure {
            error: error.into(),
        }),
        Err(payload) => failures.push(HandlerFailure {
            error: lifecycle_ecs_systems::panicked(payload),
        }),
    }
}

/// `payload` as `M`, or why it cannot be: not that type, or a user type whose conversion
/// (its serde code) panicked.
fn read<M: Receivable>(payload: &dyn super::Payload) -> Result<View<'_, M>, HookError> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| M::view(payload))) {
        Ok(Some(view)) => Ok(view),
        Ok(None) => Err(HookError::msg(format!(
            "a `{}` message cannot be read as {}",
            payload.message_type(),
            core::any::type_name::<M>()
        ))),
        Err(panic) => Err(lifecycle_ecs_systems::panicked(panic)),
    }
}

/// The kinds whose services have service type `wanted`.
fn kinds_of_type(types: &KindServiceTypes, wanted: &str) -> Vec<u16> {
    types.kinds_with(wanted)
}
