//! [`CommandResponse`]: a service's answer to a [`Command`] (`command_response`).

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::connection_probe::check_targets;
use super::wire::{extra_entries, extra_fields, optional_entry, take, take_required};
use super::{Command, CommandResponseStatus, CommandType, Message, MessageRuleError, MessageType};
use crate::ErrorDetails;

/// AIPerf's `CommandResponse` (`command_response`) and its four kinds, told apart by `status`
/// ([`CommandOutcome`]).
///
/// AIPerf builds every response with `from_command_message`:
/// [`for_command`](Self::for_command) does the same (`service_id` = the responder,
/// `target_service_id` = the command's sender, `command` and `command_id` echoed).
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::{Command, CommandBody, CommandOutcome, CommandResponse, Message};
/// let command = Command::new("system_controller_00000001", "c-1", CommandBody::ProfileStart);
/// let response = CommandResponse::for_command(
///     &command,
///     "worker_1a2b3c4d",
///     CommandOutcome::Success { data: serde_json::json!({"k": 1}) },
/// );
/// assert_eq!(
///     response.to_json().unwrap(),
///     r#"{"message_type":"command_response","service_id":"worker_1a2b3c4d","target_service_id":"system_controller_00000001","command":"profile_start","command_id":"c-1","status":"success","data":{"k":1}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CommandResponse {
    /// When it was sent, in epoch nanoseconds (omitted when `None`).
    pub request_ns: Option<u64>,
    /// A request id (omitted when `None`).
    pub request_id: Option<String>,
    /// The responder.
    pub service_id: String,
    /// The command's sender (omitted when `None`).
    pub target_service_id: Option<String>,
    /// A target service type (omitted when `None`; AIPerf never sets it on a response).
    pub target_service_type: Option<String>,
    /// The command answered, echoed as it arrived.
    pub command: CommandType,
    /// The id of the command answered.
    pub command_id: String,
    /// The kind of response, with its fields.
    pub outcome: CommandOutcome,
    /// Keys the response does not name, kept and re-encoded in arrival order.
    pub extra: Map<String, Value>,
}

/// The four kinds of command response.
#[derive(Clone, Debug, PartialEq)]
pub enum CommandOutcome {
    /// `acknowledged` (`CommandAcknowledgedResponse`).
    Acknowledged,
    /// `unhandled` (`CommandUnhandledResponse`): no handler for the command.
    Unhandled,
    /// `failure` (`CommandErrorResponse`).
    Failure {
        /// Why the handler failed.
        error: ErrorDetails,
    },
    /// `success` (`CommandSuccessResponse`).
    Success {
        /// What the handler returned (`null` when absent).
        data: Value,
    },
}

impl CommandOutcome {
    /// The `status` key of this outcome.
    #[must_use]
    pub const fn status(&self) -> CommandResponseStatus {
        match self {
            Self::Acknowledged => CommandResponseStatus::Acknowledged,
            Self::Unhandled => CommandResponseStatus::Unhandled,
            Self::Failure { .. } => CommandResponseStatus::Failure,
            Self::Success { .. } => CommandResponseStatus::Success,
        }
    }
}

impl CommandResponse {
    /// The response of `responder` to `command` (AIPerf's `from_command_message`).
    #[must_use]
    pub fn for_command(
        command: &Command,
        responder: impl Into<String>,
        outcome: CommandOutcome,
    ) -> Self {
        Self {
            request_ns: None,
            request_id: None,
            service_id: responder.into(),
            target_service_id: Some(command.service_id.clone()),
            target_service_type: None,
            command: command.command_type(),
            command_id: command.command_id.clone(),
            outcome,
            extra: Map::new(),
        }
    }
}

impl Serialize for CommandResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        optional_entry(&mut map, "request_ns", self.request_ns.as_ref())?;
        optional_entry(&mut map, "request_id", self.request_id.as_ref())?;
        map.serialize_entry("service_id", &self.service_id)?;
        optional_entry(
            &mut map,
            "target_service_id",
            self.target_service_id.as_ref(),
        )?;
        optional_entry(
            &mut map,
            "target_service_type",
            self.target_service_type.as_ref(),
        )?;
        map.serialize_entry("command", &self.command)?;
        map.serialize_entry("command_id", &self.command_id)?;
        map.serialize_entry("status", &self.outcome.status())?;
        match &self.outcome {
            CommandOutcome::Acknowledged | CommandOutcome::Unhandled => {}
            CommandOutcome::Failure { error } => map.serialize_entry("error", error)?,
            CommandOutcome::Success { data } => map.serialize_entry("data", data)?,
        }
        extra_entries(&mut map, &self.extra)?;
        map.end()
    }
}

/// The keys every response has, and the rest.
#[derive(Deserialize)]
struct ResponseHead {
    /// See [`CommandResponse::request_ns`].
    #[serde(default)]
    request_ns: Option<u64>,
    /// See [`CommandResponse::request_id`].
    #[serde(default)]
    request_id: Option<String>,
    /// See [`CommandResponse::service_id`].
    service_id: String,
    /// See [`CommandResponse::target_service_id`].
    #[serde(default)]
    target_service_id: Option<String>,
    /// See [`CommandResponse::target_service_type`].
    #[serde(default)]
    target_service_type: Option<String>,
    /// See [`CommandResponse::command`].
    command: CommandType,
    /// See [`CommandResponse::command_id`].
    command_id: String,
    /// Which kind of response.
    status: CommandResponseStatus,
    /// The kind's keys and the extra keys.
    #[serde(flatten, deserialize_with = "extra_fields")]
    rest: Map<String, Value>,
}

impl<'de> Deserialize<'de> for CommandResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut head = ResponseHead::deserialize(deserializer)?;
        let outcome = match head.status {
            CommandResponseStatus::Acknowledged => CommandOutcome::Acknowledged,
            CommandResponseStatus::Unhandled => CommandOutcome::Unhandled,
            CommandResponseStatus::Failure => CommandOutcome::Failure {
                error: take_required(&mut head.rest, "error")?,
            },
            CommandResponseStatus::Success => CommandOutcome::Success {
                data: take(&mut head.rest, "data")?.unwrap_or(Value::Null),
            },
        };
        Ok(Self {
            request_ns: head.request_ns,
            request_id: head.request_id,
            service_id: head.service_id,
            target_service_id: head.target_service_id,
            target_service_type: head.target_service_type,
            command: head.command,
            command_id: head.command_id,
            outcome,
            extra: head.rest,
        })
    }
}

impl Message for CommandResponse {
    const MESSAGE_TYPE: &'static str = MessageType::CommandResponse.as_str();

    fn check(&self) -> Result<(), MessageRuleError> {
        check_targets(
            self.target_service_id.as_ref(),
            self.target_service_type.as_ref(),
        )
    }
}
