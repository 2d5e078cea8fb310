//! [`RawMessage`]: a message of a type this crate does not model, kept as JSON.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::message_trait::{decode_body, same_message_type};
use super::{DecodeError, EncodeError, Message};

/// A message whose `message_type` has no typed struct here (a user type, or an AIPerf type
/// this crate does not model yet), kept as the JSON object it arrived as: every key, in
/// arrival order, `message_type` included. It re-encodes to the same JSON.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::AnyMessage;
/// let line = r#"{"message_type":"my_ping","service_id":"a","n":1}"#;
/// let AnyMessage::Raw(raw) = AnyMessage::decode(line.as_bytes()).unwrap() else { panic!() };
/// assert_eq!(raw.message_type(), "my_ping");
/// assert_eq!(raw.fields()["n"], 1);
/// assert_eq!(raw.to_json().unwrap(), line);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RawMessage {
    /// The `message_type` string (also in `fields`).
    message_type: String,
    /// Every key of the object.
    fields: Map<String, Value>,
}

impl RawMessage {
    /// A raw message of `message_type` with `fields`; the `message_type` key is set (first,
    /// when `fields` did not have it).
    #[must_use]
    pub fn new(message_type: impl Into<String>, fields: Map<String, Value>) -> Self {
        let message_type = message_type.into();
        let mut all = Map::with_capacity(fields.len() + 1);
        all.insert(
            "message_type".to_owned(),
            Value::String(message_type.clone()),
        );
        for (key, value) in fields {
            if key != "message_type" {
                all.insert(key, value);
            }
        }
        Self {
            message_type,
            fields: all,
        }
    }

    /// Wraps a decoded object whose `message_type` string was read already.
    pub(crate) fn from_parts(message_type: String, fields: Map<String, Value>) -> Self {
        Self {
            message_type,
            fields,
        }
    }

    /// The `message_type` string, as it arrived.
    #[must_use]
    pub fn message_type(&self) -> &str {
        &self.message_type
    }

    /// Every key of the message, in arrival order (`message_type` included).
    #[must_use]
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The keys, by value.
    #[must_use]
    pub fn into_fields(self) -> Map<String, Value> {
        self.fields
    }

    /// Decodes this message as the typed `M` (for example a user type declared with
    /// [`wire_message!`](crate::wire_message)).
    ///
    /// # Errors
    /// [`DecodeError::WrongMessageType`] when the type string is not `M`'s; otherwise the errors
    /// of decoding `M`'s fields.
    pub fn parse<M: Message>(&self) -> Result<M, DecodeError> {
        if !same_message_type(&self.message_type, M::MESSAGE_TYPE) {
            return Err(DecodeError::WrongMessageType {
                expected: M::MESSAGE_TYPE,
                found: self.message_type.clone(),
            });
        }
        let bytes = serde_json::to_vec(&self.fields).map_err(DecodeError::InvalidJson)?;
        decode_body(&bytes, &self.message_type)
    }

    /// The message as one JSON object, keys in arrival order.
    ///
    /// # Errors
    /// None in practice (every key is a string and every value JSON); the `Result` keeps the
    /// codec's signature.
    pub fn to_json(&self) -> Result<String, EncodeError> {
        serde_json::to_string(&self.fields).map_err(EncodeError::Json)
    }
}

impl Serialize for RawMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields.serialize(serializer)
    }
}
