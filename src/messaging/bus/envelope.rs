//! [`Envelope`]: one published message with its sender and target, as the bus carries it.

use bevy_ecs::entity::Entity;

use super::{Payload, Target};

/// One published message on its way: what a transport carries between processes and a traffic
/// mirror records.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::bus::{Envelope, Target};
/// use lifecycle_ecs::messaging::RawMessage;
/// let envelope = Envelope::new(None, Target::Broadcast, RawMessage::new("ping", Default::default()));
/// assert_eq!(envelope.message_type(), "ping");
/// assert_eq!(envelope.sender(), None);
/// ```
pub struct Envelope {
    pub(crate) sender: Option<Entity>,
    pub(crate) target: Target,
    pub(crate) payload: Box<dyn Payload>,
}

impl Envelope {
    /// `payload` from `sender` (`None`: from outside any service) for `target`.
    pub fn new(sender: Option<Entity>, target: Target, payload: impl Payload) -> Self {
        Self {
            sender,
            target,
            payload: Box::new(payload),
        }
    }

    /// An envelope around a payload boxed already.
    pub fn from_boxed(sender: Option<Entity>, target: Target, payload: Box<dyn Payload>) -> Self {
        Self {
            sender,
            target,
            payload,
        }
    }

    /// The message's type: the topic it is routed on.
    pub fn message_type(&self) -> &str {
        self.payload.message_type()
    }

    /// The publishing service, if a service published it.
    pub fn sender(&self) -> Option<Entity> {
        self.sender
    }

    /// Who it is for.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The message.
    pub fn payload(&self) -> &dyn Payload {
        &*self.payload
    }
}

impl core::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Envelope")
            .field("message_type", &self.message_type())
            .field("sender", &self.sender)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}
