//! The outbox: where published envelopes wait for the next bus round, and [`BusHandle`], which
//! publishes into it from tokio tasks and other threads.
//!
//! # Memory policy
//!
//! The outbox is **unbounded**: publishing never blocks and never drops. What waits is counted:
//! [`BusReport::outbox_peak`](super::BusReport::outbox_peak) is the most envelopes that waited
//! for one round, and each round takes everything published before it started (messages published
//! by handlers during a round wait for the next one).

use std::sync::Arc;

use bevy_ecs::entity::Entity;
use bevy_ecs::resource::Resource;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use tokio::sync::Notify;

use super::{Envelope, Payload, Target};

/// What one send on the channel carries: an envelope, or a batch of them in publish order.
pub(crate) enum Parcel {
    One(Envelope),
    Many(Vec<Envelope>),
}

/// The envelopes published and not yet routed: a World resource owned by the bus plugin.
#[derive(Resource)]
pub struct BusOutbox {
    /// Published from inside the world (systems, the engine): no channel on this path.
    local: Vec<Envelope>,
    inbound: Receiver<Parcel>,
    sender: Sender<Parcel>,
    wake: Option<Arc<Notify>>,
    published: u64,
}

impl BusOutbox {
    pub(crate) fn new(wake: Option<Arc<Notify>>) -> Self {
        let (sender, inbound) = crossbeam_channel::unbounded();
        Self {
            local: Vec::new(),
            inbound,
            sender,
            wake,
            published: 0,
        }
    }

    /// Queues `envelope` for the next round.
    #[inline]
    pub fn push(&mut self, envelope: Envelope) {
        self.published += 1;
        self.local.push(envelope);
    }

    /// Reserves room for `additional` more envelopes (a batch publish).
    pub fn reserve(&mut self, additional: usize) {
        self.local.reserve(additional);
    }

    /// A handle that publishes into this outbox from anywhere.
    pub fn handle(&self) -> BusHandle {
        BusHandle {
            sender: self.sender.clone(),
            wake: self.wake.clone(),
        }
    }

    /// Moves everything published so far into `into`, in publish order per publisher (the
    /// world's own publishes first, then the handles' in arrival order). Returns how many
    /// envelopes the handles sent.
    pub(crate) fn drain_into(&mut self, into: &mut Vec<Envelope>) -> u64 {
        into.append(&mut self.local);
        let mut from_handles = 0_u64;
        loop {
            match self.inbound.try_recv() {
                Ok(Parcel::One(envelope)) => {
                    from_handles += 1;
                    into.push(envelope);
                }
                Ok(Parcel::Many(mut envelopes)) => {
                    from_handles += envelopes.len() as u64;
                    into.append(&mut envelopes);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        self.published += from_handles;
        from_handles
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.local.is_empty() && self.inbound.is_empty()
    }

    /// How many envelopes were published in all (world and handles; counted when they reach
    /// a round for the handles').
    pub fn published(&self) -> u64 {
        self.published
    }
}

/// Publishes messages onto an engine's bus from tokio tasks, other threads, or outside the
/// engine. Cloneable and cheap; sending never blocks (the outbox is unbounded, see the
/// [module docs](self)) and wakes the run loop.
///
/// # Example
/// ```
/// use lifecycle_ecs::Engine;
/// use lifecycle_ecs::messaging::RawMessage;
/// use lifecycle_ecs::messaging::bus::Target;
/// let mut engine = Engine::new();
/// let bus = engine.bus_handle().unwrap();
/// std::thread::spawn(move || {
///     bus.publish(None, Target::Broadcast, RawMessage::new("ping", Default::default())).unwrap();
/// })
/// .join()
/// .unwrap();
/// let round = engine.pump_messages();
/// assert_eq!(round.routed, 1);
/// assert_eq!(engine.bus_report().unwrap().undelivered_total(), 1, "nobody subscribes to ping");
/// ```
#[derive(Clone)]
pub struct BusHandle {
    sender: Sender<Parcel>,
    wake: Option<Arc<Notify>>,
}

/// The engine that owned the bus is gone: nothing will route the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the engine's bus is gone (the engine was dropped)")]
pub struct BusClosedError;

impl BusHandle {
    /// Publishes `message` from `sender` (`None`: from outside any service) to `target`.
    ///
    /// # Errors
    /// [`BusClosedError`] when the engine was dropped.
    pub fn publish(
        &self,
        sender: Option<Entity>,
        target: Target,
        message: impl Payload,
    ) -> Result<(), BusClosedError> {
        self.send(Parcel::One(Envelope::new(sender, target, message)))
    }

    /// Publishes every envelope of `envelopes`, in order, as one send.
    ///
    /// # Errors
    /// [`BusClosedError`] when the engine was dropped.
    pub fn publish_all(&self, envelopes: Vec<Envelope>) -> Result<(), BusClosedError> {
        if envelopes.is_empty() {
            return Ok(());
        }
        self.send(Parcel::Many(envelopes))
    }

    fn send(&self, parcel: Parcel) -> Result<(), BusClosedError> {
        self.sender.send(parcel).map_err(|_| BusClosedError)?;
        if let Some(wake) = &self.wake {
            wake.notify_one();
        }
        Ok(())
    }
}
