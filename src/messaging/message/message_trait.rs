//! [`Message`]: a typed message with a fixed `message_type`, and its JSON codec.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::type_probe::read_message_type;
use super::wire::Tagged;
use super::{DecodeError, EncodeError, MessageRuleError, MessageType};

/// A message type with a fixed `message_type` string, encoded in AIPerf's JSON wire shape.
///
/// `Serialize` writes the body's keys (everything but `message_type`), in AIPerf's key order and
/// with the omit-if-None rule ([`OMIT_IF_NONE`](super::OMIT_IF_NONE)); [`to_json`](Self::to_json)
/// writes `message_type` first, then the body. `Deserialize` reads the body (a `message_type`
/// key in the input is ignored: [`from_json`](Self::from_json) checks it).
///
/// The built-in messages implement it, and [`wire_message!`](crate::wire_message) declares user
/// messages that do.
pub trait Message: Serialize + DeserializeOwned {
    /// The `message_type` string on the wire.
    const MESSAGE_TYPE: &'static str;

    /// Checks AIPerf's validation rules for this type (none by default).
    ///
    /// # Errors
    /// The rule the message breaks.
    fn check(&self) -> Result<(), MessageRuleError> {
        Ok(())
    }

    /// The message as one JSON object, `message_type` first.
    ///
    /// # Errors
    /// [`EncodeError::BrokenRule`] when [`check`](Self::check) fails; [`EncodeError::Json`] when
    /// a field does not serialize as JSON.
    fn to_json(&self) -> Result<String, EncodeError> {
        self.check().map_err(|rule| EncodeError::BrokenRule {
            message_type: Self::MESSAGE_TYPE.to_owned(),
            rule,
        })?;
        serde_json::to_string(&Tagged {
            message_type: Self::MESSAGE_TYPE,
            body: self,
        })
        .map_err(EncodeError::Json)
    }

    /// Decodes one JSON object of this type.
    ///
    /// A built-in type's name matches case-insensitively (AIPerf's enum), a user type's name
    /// exactly.
    ///
    /// # Errors
    /// Any [`DecodeError`]: [`WrongMessageType`](DecodeError::WrongMessageType) when the
    /// object's `message_type` is another type's.
    fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let found = read_message_type(bytes)?;
        if !same_message_type(&found, Self::MESSAGE_TYPE) {
            return Err(DecodeError::WrongMessageType {
                expected: Self::MESSAGE_TYPE,
                found,
            });
        }
        decode_body(bytes, &found)
    }
}

/// Whether the wire type `found` names the type `expected`.
pub(crate) fn same_message_type(found: &str, expected: &str) -> bool {
    found == expected
        || matches!(
            (MessageType::parse(found), MessageType::parse(expected)),
            (Some(a), Some(b)) if a == b
        )
}

/// Decodes the body of a message whose type was read already, and checks its rules.
pub(crate) fn decode_body<M: Message>(bytes: &[u8], message_type: &str) -> Result<M, DecodeError> {
    let message: M = serde_json::from_slice(bytes).map_err(|source| match source.classify() {
        // The probe skips nested values without a depth limit; the typed pass has serde_json's
        // recursion limit, reported as a syntax error.
        Category::Syntax | Category::Eof | Category::Io => DecodeError::InvalidJson(source),
        Category::Data => DecodeError::InvalidFields {
            message_type: message_type.to_owned(),
            source,
        },
    })?;
    message.check().map_err(|rule| DecodeError::BrokenRule {
        message_type: message_type.to_owned(),
        rule,
    })?;
    Ok(message)
}
