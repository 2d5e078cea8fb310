//! [`ErrorMessage`]: the reply to a request that failed or produced nothing (`error`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire::extra_fields;
use super::{Message, MessageType};
use crate::ErrorDetails;

/// AIPerf's `ErrorMessage` (`error`): a base `Message` (no `service_id`) carrying an
/// [`ErrorDetails`] (whose `code` and `type` are written as `null` when `None`).
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::{ErrorMessage, Message};
/// let reply = ErrorMessage::no_response(Some("r-1".into()));
/// assert_eq!(
///     reply.to_json().unwrap(),
///     r#"{"message_type":"error","request_id":"r-1","error":{"code":null,"type":"NO_RESPONSE","message":"No response was generated for the request."}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// When it was sent, in epoch nanoseconds (omitted when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_ns: Option<u64>,
    /// The id of the request this answers (omitted when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What went wrong.
    pub error: ErrorDetails,
    /// Keys the type does not name, kept and re-encoded in arrival order.
    #[serde(flatten, deserialize_with = "extra_fields")]
    pub extra: Map<String, Value>,
}

impl ErrorMessage {
    /// An error reply to `request_id`.
    #[must_use]
    pub fn new(request_id: Option<String>, error: ErrorDetails) -> Self {
        Self {
            request_ns: None,
            request_id,
            error,
            extra: Map::new(),
        }
    }

    /// AIPerf's reply when a request handler returned nothing: type `NO_RESPONSE`.
    #[must_use]
    pub fn no_response(request_id: Option<String>) -> Self {
        Self::new(
            request_id,
            ErrorDetails {
                code: None,
                error_type: Some("NO_RESPONSE".to_owned()),
                message: "No response was generated for the request.".to_owned(),
            },
        )
    }
}

impl Message for ErrorMessage {
    const MESSAGE_TYPE: &'static str = MessageType::Error.as_str();
}
