//! [`ConnectionProbe`]: the message a service sends itself until its subscriptions are live.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire::extra_fields;
use super::{Message, MessageRuleError, MessageType};

/// AIPerf's `ConnectionProbeMessage` (`connection_probe`): a `TargetedServiceMessage` with no
/// further fields, published with `target_service_id` = the sender's own id until it comes
/// back (the slow-joiner guard).
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::{ConnectionProbe, Message};
/// let probe = ConnectionProbe::new("worker_1");
/// assert_eq!(
///     probe.to_json().unwrap(),
///     r#"{"message_type":"connection_probe","service_id":"worker_1","target_service_id":"worker_1"}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionProbe {
    /// When it was sent, in epoch nanoseconds (omitted when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_ns: Option<u64>,
    /// A request id (omitted when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The sender.
    pub service_id: String,
    /// The one service it is for (omitted when `None`; exclusive with `target_service_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_service_id: Option<String>,
    /// The service type it is for (omitted when `None`; exclusive with `target_service_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_service_type: Option<String>,
    /// Keys the type does not name, kept and re-encoded in arrival order.
    #[serde(flatten, deserialize_with = "extra_fields")]
    pub extra: Map<String, Value>,
}

impl ConnectionProbe {
    /// The probe `service_id` sends to itself.
    #[must_use]
    pub fn new(service_id: impl Into<String>) -> Self {
        let service_id = service_id.into();
        Self {
            request_ns: None,
            request_id: None,
            target_service_id: Some(service_id.clone()),
            service_id,
            target_service_type: None,
            extra: Map::new(),
        }
    }
}

impl Message for ConnectionProbe {
    const MESSAGE_TYPE: &'static str = MessageType::ConnectionProbe.as_str();

    fn check(&self) -> Result<(), MessageRuleError> {
        check_targets(
            self.target_service_id.as_ref(),
            self.target_service_type.as_ref(),
        )
    }
}

/// AIPerf's `TargetedServiceMessage` rule: a target id, a target type, or neither (broadcast).
///
/// # Errors
/// [`MessageRuleError::BothTargets`].
pub(crate) fn check_targets(
    target_service_id: Option<&String>,
    target_service_type: Option<&String>,
) -> Result<(), MessageRuleError> {
    if target_service_id.is_some() && target_service_type.is_some() {
        Err(MessageRuleError::BothTargets)
    } else {
        Ok(())
    }
}
