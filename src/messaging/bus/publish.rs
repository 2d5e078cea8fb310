//! [`Publish`]: the system parameter hooks publish with (shaped like bevy's `MessageWriter`).

use bevy_ecs::entity::Entity;
use bevy_ecs::system::{ResMut, SystemParam};

use super::{BusHandle, BusOutbox, Envelope, Payload, Target};

/// Publishes messages from a system onto the engine's bus; they are routed in the next bus
/// round (a message published by a handler reaches its subscribers in the round after the one
/// that delivered to the handler).
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs::prelude::*;
/// use lifecycle_ecs::messaging::RawMessage;
/// use lifecycle_ecs::messaging::bus::{Publish, Target};
///
/// fn announce(mut targets: Targets<Lifecycle>, mut publish: Publish) {
///     targets.for_each(|entity, ()| {
///         publish.send(Some(entity), Target::Broadcast, RawMessage::new("hello", Default::default()));
///     });
/// }
///
/// let mut engine = Engine::new();
/// engine.add_hook::<Lifecycle, _>(HookType::OnStart, announce).unwrap();
/// engine.spawn_batch(Lifecycle, 4);
/// engine.initialize(Selection::All);
/// engine.start(Selection::All);
/// assert_eq!(engine.pump_messages().routed, 4);
/// ```
#[derive(SystemParam)]
pub struct Publish<'w> {
    outbox: ResMut<'w, BusOutbox>,
}

impl Publish<'_> {
    /// Publishes `message` from `sender` (`None`: from no service) to `target`.
    pub fn send(&mut self, sender: Option<Entity>, target: Target, message: impl Payload) {
        self.outbox.push(Envelope::new(sender, target, message));
    }

    /// Publishes an envelope built already.
    pub fn send_envelope(&mut self, envelope: Envelope) {
        self.outbox.push(envelope);
    }

    /// A handle for publishing from async tasks or other threads.
    pub fn handle(&self) -> BusHandle {
        self.outbox.handle()
    }
}
