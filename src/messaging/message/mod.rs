//! AIPerf's messages as typed Rust values in AIPerf's exact JSON wire shape.
//!
//! One file per concept: the wire rules ([`wire`]: the global omit-if-None set), the enums
//! ([`MessageType`], [`CommandType`], [`CommandResponseStatus`], [`ServiceType`]), one file per
//! message, the [`Message`] trait with its codec, [`AnyMessage`] (decode by `message_type`),
//! [`RawMessage`] (unknown types), the errors, and the [`wire_message!`](crate::wire_message)
//! macro for user types.

mod any_message;
mod command;
mod command_response;
mod command_response_status;
mod command_type;
mod connection_probe;
mod decode_error;
mod error_message;
mod heartbeat;
mod message_trait;
mod message_type;
mod raw_message;
mod service_type;
mod status;
mod type_probe;
mod user_message_macro;
pub(crate) mod wire;
mod wire_enum_macro;

pub use any_message::AnyMessage;
pub use command::{Command, CommandBody};
pub use command_response::{CommandOutcome, CommandResponse};
pub use command_response_status::CommandResponseStatus;
pub use command_type::CommandType;
pub use connection_probe::ConnectionProbe;
pub use decode_error::{DecodeError, EncodeError, MessageRuleError};
pub use error_message::ErrorMessage;
pub use heartbeat::Heartbeat;
pub use message_trait::Message;
pub use message_type::MessageType;
pub use raw_message::RawMessage;
pub use service_type::ServiceType;
pub use status::Status;
pub use wire::{OMIT_IF_NONE, now_ns, omits_if_none};
