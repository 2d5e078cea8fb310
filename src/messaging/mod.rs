//! Messaging: AIPerf's message types in their exact JSON wire shape.
//!
//! This module is the message *data* layer and, in [`bus`], the in-process bus that routes
//! these messages between services (topics, targeting, ON_MESSAGE hooks in batches).
//!
//! # The wire shape
//!
//! Every message is one JSON object, as AIPerf's pydantic models write it with
//! `model_dump_json()`, so a Python AIPerf service can read what this crate writes and the
//! other way round:
//!
//! - **`message_type` first**, then the fields in AIPerf's declaration order (base classes'
//!   fields first): `request_ns`, `request_id`, `service_id`, `target_service_id`,
//!   `target_service_type`, then the message's own.
//! - **Lowercase enum values** (`"running"`, `"shutdown_workers"`, `"success"`), decoded
//!   case-insensitively as AIPerf's `CaseInsensitiveStrEnum` compares.
//! - **One global omit-if-None set** ([`OMIT_IF_NONE`]): a field with one of those 19 names is
//!   left out when `None`, in any message; **every other `None` is `null`** (`"code":null`).
//! - **Unknown keys are kept** (pydantic's `extra="allow"`): a typed message has an `extra`
//!   map, re-encoded after its own keys.
//!
//! # Decoding
//!
//! [`AnyMessage::decode`] reads the `message_type` and decodes the typed struct for the types
//! modelled here ([`Status`], [`Heartbeat`], [`ConnectionProbe`], [`Command`],
//! [`CommandResponse`], [`ErrorMessage`]). Every other type string (a user type, or an AIPerf
//! type not modelled yet) gives a [`RawMessage`]: the JSON object as it arrived, to be
//! delivered to the subscribers of that string and re-encoded unchanged. Bytes that are not a
//! message give a typed [`DecodeError`], never a panic.
//!
//! ```
//! use lifecycle_ecs::messaging::{AnyMessage, CommandBody, Message};
//!
//! let line = br#"{"message_type":"command","service_id":"worker_1","target_service_type":"system_controller","command":"register_service","command_id":"c-2","service_type":"worker","state":"starting"}"#;
//! let AnyMessage::Command(command) = AnyMessage::decode(line).unwrap() else { panic!() };
//! assert!(matches!(command.body, CommandBody::RegisterService { .. }));
//! assert_eq!(command.to_json().unwrap().as_bytes(), line);
//! ```
//!
//! # Your own message types
//!
//! Implement [`Message`] (a `const MESSAGE_TYPE` and serde impls), or declare the struct with
//! [`wire_message!`](crate::wire_message), which applies the omit-if-None rule by field name.
//!
//! # Where AIPerf differs
//!
//! - AIPerf drops a command with an unknown `command` string before dispatch (a `KeyError`);
//!   here it decodes as [`CommandBody::Other`] so that a bus can answer it UNHANDLED.
//! - AIPerf stamps `request_ns` of status and heartbeat messages once, at import;
//!   [`Status::new`] and [`Heartbeat::new`] stamp the time of construction.
//! - `command_id` is required here (AIPerf generates a uuid4 when it is absent).

pub mod bus;
mod clients;
mod message;

pub use clients::MessageBusClient;
pub use message::*;

/// What [`wire_message!`](crate::wire_message) expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use super::message::wire::{NoneProbe, ProbeOption, ProbeOther, take_field};
    pub use serde::ser::SerializeMap;
    pub use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub use serde_json::{Map, Value};
}
