//! [`AnyMessage`]: decoding by `message_type`, typed for known types, raw JSON otherwise.

use serde_json::{Map, Value};

use super::message_trait::decode_body;
use super::type_probe::read_message_type;
use super::{
    Command, CommandResponse, ConnectionProbe, DecodeError, EncodeError, ErrorMessage, Heartbeat,
    Message, MessageType, RawMessage, Status,
};

/// Any message off the wire: one of the typed messages, or a [`RawMessage`] for every other
/// `message_type` string (user types and AIPerf types not modelled here), to be delivered to
/// the subscribers of that string.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::{AnyMessage, DecodeError};
/// let line = br#"{"message_type":"connection_probe","service_id":"w","target_service_id":"w"}"#;
/// let message = AnyMessage::decode(line).unwrap();
/// assert!(matches!(message, AnyMessage::ConnectionProbe(_)));
/// assert_eq!(message.message_type(), "connection_probe");
/// assert_eq!(message.to_json().unwrap().as_bytes(), line);
///
/// assert!(matches!(AnyMessage::decode(b"[1,2]"), Err(DecodeError::NotAnObject { .. })));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AnyMessage {
    /// `status`.
    Status(Status),
    /// `heartbeat`.
    Heartbeat(Heartbeat),
    /// `connection_probe`.
    ConnectionProbe(ConnectionProbe),
    /// `command`.
    Command(Command),
    /// `command_response`.
    CommandResponse(CommandResponse),
    /// `error`.
    Error(ErrorMessage),
    /// Any other `message_type`.
    Raw(RawMessage),
}

impl AnyMessage {
    /// Decodes one JSON object: the `message_type` picks the typed struct (case-insensitively
    /// for AIPerf's names); other types are kept raw.
    ///
    /// # Errors
    /// A [`DecodeError`] for every input that is not a message: never a panic, whatever the
    /// bytes (invalid UTF-8, deep nesting and huge numbers included).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let message_type = read_message_type(bytes)?;
        Ok(match MessageType::parse(&message_type) {
            Some(MessageType::Status) => Self::Status(decode_body(bytes, &message_type)?),
            Some(MessageType::Heartbeat) => Self::Heartbeat(decode_body(bytes, &message_type)?),
            Some(MessageType::ConnectionProbe) => {
                Self::ConnectionProbe(decode_body(bytes, &message_type)?)
            }
            Some(MessageType::Command) => Self::Command(decode_body(bytes, &message_type)?),
            Some(MessageType::CommandResponse) => {
                Self::CommandResponse(decode_body(bytes, &message_type)?)
            }
            Some(MessageType::Error) => Self::Error(decode_body(bytes, &message_type)?),
            _ => {
                let fields: Map<String, Value> =
                    serde_json::from_slice(bytes).map_err(DecodeError::InvalidJson)?;
                Self::Raw(RawMessage::from_parts(message_type, fields))
            }
        })
    }

    /// The `message_type` string: the typed struct's lowercase name, or a raw message's string
    /// as it arrived.
    #[must_use]
    pub fn message_type(&self) -> &str {
        match self {
            Self::Status(_) => Status::MESSAGE_TYPE,
            Self::Heartbeat(_) => Heartbeat::MESSAGE_TYPE,
            Self::ConnectionProbe(_) => ConnectionProbe::MESSAGE_TYPE,
            Self::Command(_) => Command::MESSAGE_TYPE,
            Self::CommandResponse(_) => CommandResponse::MESSAGE_TYPE,
            Self::Error(_) => ErrorMessage::MESSAGE_TYPE,
            Self::Raw(raw) => raw.message_type(),
        }
    }

    /// The message as one JSON object in AIPerf's wire shape.
    ///
    /// # Errors
    /// [`EncodeError::BrokenRule`] when a typed message breaks one of AIPerf's validation rules.
    pub fn to_json(&self) -> Result<String, EncodeError> {
        match self {
            Self::Status(message) => message.to_json(),
            Self::Heartbeat(message) => message.to_json(),
            Self::ConnectionProbe(message) => message.to_json(),
            Self::Command(message) => message.to_json(),
            Self::CommandResponse(message) => message.to_json(),
            Self::Error(message) => message.to_json(),
            Self::Raw(raw) => raw.to_json(),
        }
    }
}

/// `From` each typed message into [`AnyMessage`].
macro_rules! from_typed {
    ($($variant:ident($ty:ty)),*) => {
        $(impl From<$ty> for AnyMessage {
            fn from(message: $ty) -> Self {
                Self::$variant(message)
            }
        })*
    };
}

from_typed!(
    Status(Status),
    Heartbeat(Heartbeat),
    ConnectionProbe(ConnectionProbe),
    Command(Command),
    CommandResponse(CommandResponse),
    Error(ErrorMessage),
    Raw(RawMessage)
);
