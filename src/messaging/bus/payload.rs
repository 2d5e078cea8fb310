//! [`Payload`]: what an envelope carries — any message, typed or raw, behind one trait object.

use std::any::Any;

use crate::messaging::{EncodeError, Message, RawMessage};

/// A message the bus can carry: its `message_type` (the topic it is routed on), its JSON wire
/// form (for a transport or a traffic mirror), and the value itself for handlers to read.
///
/// Every [`Message`] is a payload, and so is a [`RawMessage`] (a type known only by its
/// string). In-process delivery never encodes: handlers get a reference to the value that was
/// published.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::bus::Payload;
/// use lifecycle_ecs::messaging::Heartbeat;
/// use lifecycle_ecs::LifecycleState;
/// let heartbeat = Heartbeat::new("worker_1", "worker", LifecycleState::Running);
/// assert_eq!(Payload::message_type(&heartbeat), "heartbeat");
/// assert!(heartbeat.encode().unwrap().starts_with(r#"{"message_type":"heartbeat""#));
/// ```
pub trait Payload: Any + Send + Sync {
    /// The `message_type` string: the topic the message is routed on.
    fn message_type(&self) -> &str;

    /// The message in AIPerf's JSON wire shape.
    ///
    /// # Errors
    /// [`EncodeError`] when the message breaks a rule of its type or a field does not encode.
    fn encode(&self) -> Result<String, EncodeError>;

    /// The message as `Any`, for handlers to downcast to their type.
    fn as_any(&self) -> &dyn Any;

    /// The message as a [`RawMessage`] when it is one (a handler of a typed message decodes it).
    fn as_raw(&self) -> Option<&RawMessage> {
        None
    }
}

impl<M: Message + Send + Sync + 'static> Payload for M {
    fn message_type(&self) -> &str {
        M::MESSAGE_TYPE
    }

    fn encode(&self) -> Result<String, EncodeError> {
        self.to_json()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Payload for RawMessage {
    fn message_type(&self) -> &str {
        RawMessage::message_type(self)
    }

    fn encode(&self) -> Result<String, EncodeError> {
        self.to_json()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_raw(&self) -> Option<&RawMessage> {
        Some(self)
    }
}
