//! [`Heartbeat`]: a service's periodic "still alive" (`heartbeat`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::status::status_message;
use super::wire::{extra_fields, lifecycle_state, now_ns};
use super::{Message, MessageType};
use crate::LifecycleState;

status_message! {
    /// AIPerf's `HeartbeatMessage` (`heartbeat`): the same fields as a [`Status`](super::Status),
    /// sent periodically. Judge liveness by receive time: AIPerf's `request_ns` is frozen at
    /// import time (quirk c).
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::LifecycleState;
    /// use lifecycle_ecs::messaging::{Heartbeat, Message};
    /// let beat = Heartbeat::new("worker_1", "worker", LifecycleState::Running);
    /// let json = beat.to_json().unwrap();
    /// assert!(json.starts_with(r#"{"message_type":"heartbeat","request_ns":"#));
    /// assert_eq!(Heartbeat::from_json(json.as_bytes()).unwrap(), beat);
    /// ```
    Heartbeat, MessageType::Heartbeat
}
