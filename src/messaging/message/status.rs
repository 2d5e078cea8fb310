//! [`Status`]: a service's lifecycle state, published on every change (`status`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::wire::{extra_fields, lifecycle_state, now_ns};
use super::{Message, MessageType};
use crate::LifecycleState;

/// Declares one of AIPerf's `BaseStatusMessage` types: `request_ns`, `request_id`,
/// `service_id`, `state`, `service_type` and the extra keys.
macro_rules! status_message {
    ($(#[$meta:meta])* $name:ident, $message_type:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// When it was sent, in epoch nanoseconds. AIPerf stamps it once at import
            /// (quirk c); [`new`](Self::new) stamps the time of construction.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub request_ns: Option<u64>,
            /// A request id (omitted when `None`).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub request_id: Option<String>,
            /// The sender.
            pub service_id: String,
            /// The sender's lifecycle state (decoded case-insensitively, written lowercase).
            #[serde(deserialize_with = "lifecycle_state")]
            pub state: LifecycleState,
            /// The sender's service type (`ServiceType | str`).
            pub service_type: String,
            /// Keys the type does not name, kept and re-encoded in arrival order.
            #[serde(flatten, deserialize_with = "extra_fields")]
            pub extra: Map<String, Value>,
        }

        impl $name {
            /// A message from `service_id` (of `service_type`) in `state`, stamped now.
            #[must_use]
            pub fn new(
                service_id: impl Into<String>,
                service_type: impl Into<String>,
                state: LifecycleState,
            ) -> Self {
                Self {
                    request_ns: Some(now_ns()),
                    request_id: None,
                    service_id: service_id.into(),
                    state,
                    service_type: service_type.into(),
                    extra: Map::new(),
                }
            }
        }

        impl Message for $name {
            const MESSAGE_TYPE: &'static str = $message_type.as_str();
        }
    };
}

pub(crate) use status_message;

status_message! {
    /// AIPerf's `StatusMessage` (`status`): a service's state, sent when it changes.
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::LifecycleState;
    /// use lifecycle_ecs::messaging::{Message, Status};
    /// let line = r#"{"message_type":"status","request_ns":1,"service_id":"w","state":"running","service_type":"worker"}"#;
    /// let status = Status::from_json(line.as_bytes()).unwrap();
    /// assert_eq!(status.state, LifecycleState::Running);
    /// assert_eq!(status.to_json().unwrap(), line);
    /// ```
    Status, MessageType::Status
}
