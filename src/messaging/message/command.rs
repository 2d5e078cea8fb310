//! [`Command`]: a request for a service to do something, answered by a
//! [`CommandResponse`](super::CommandResponse) (`command`).

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::connection_probe::check_targets;
use super::wire::{extra_entries, extra_fields, optional_entry, take, take_required};
use super::{CommandType, Message, MessageRuleError, MessageType};
use crate::LifecycleState;

/// AIPerf's `CommandMessage` (`command`) and its subclasses: a `TargetedServiceMessage` with
/// `command`, `command_id` and the command's own fields ([`CommandBody`]).
///
/// Keys are written in AIPerf's order: `message_type`, `request_ns`, `request_id`,
/// `service_id`, `target_service_id`, `target_service_type`, `command`, `command_id`, the
/// body's fields, then the extra keys.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::{Command, CommandBody, Message};
/// let mut command = Command::new("worker_manager_1", "c-4", CommandBody::ShutdownWorkers {
///     all_workers: true,
///     worker_ids: None,
///     num_workers: None,
/// });
/// command.target_service_type = Some("system_controller".into());
/// assert_eq!(
///     command.to_json().unwrap(),
///     r#"{"message_type":"command","service_id":"worker_manager_1","target_service_type":"system_controller","command":"shutdown_workers","command_id":"c-4","all_workers":true}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// When it was sent, in epoch nanoseconds (omitted when `None`).
    pub request_ns: Option<u64>,
    /// A request id (omitted when `None`).
    pub request_id: Option<String>,
    /// The sender.
    pub service_id: String,
    /// The one service it is for (omitted when `None`; exclusive with `target_service_type`).
    pub target_service_id: Option<String>,
    /// The service type it is for (omitted when `None`; exclusive with `target_service_id`).
    pub target_service_type: Option<String>,
    /// The command's id, echoed by its responses (AIPerf: a uuid4; reused on retries).
    pub command_id: String,
    /// Which command, with its fields.
    pub body: CommandBody,
    /// Keys the command does not name, kept and re-encoded in arrival order.
    pub extra: Map<String, Value>,
}

/// A command and its own fields: one variant per AIPerf command class.
#[derive(Clone, Debug, PartialEq)]
pub enum CommandBody {
    /// `register_service`: a service announces itself (`service_id` is the service).
    RegisterService {
        /// Its service type.
        service_type: String,
        /// Its lifecycle state.
        state: LifecycleState,
    },
    /// `spawn_workers`.
    SpawnWorkers {
        /// How many workers to add.
        num_workers: u64,
    },
    /// `shutdown_workers`: every worker, these ids, or this many.
    ShutdownWorkers {
        /// All workers (default `false`; excludes the other two).
        all_workers: bool,
        /// These workers (omitted when `None`).
        worker_ids: Option<Vec<String>>,
        /// This many workers (omitted when `None`).
        num_workers: Option<u64>,
    },
    /// `process_records`.
    ProcessRecords {
        /// Whether the profile was cancelled (default `false`).
        cancelled: bool,
    },
    /// `profile_configure`: the whole user configuration, kept as JSON.
    ProfileConfigure {
        /// AIPerf's `UserConfig`.
        config: Value,
    },
    /// `profile_start`.
    ProfileStart,
    /// `profile_cancel`.
    ProfileCancel,
    /// `shutdown`.
    Shutdown,
    /// `realtime_metrics`.
    RealtimeMetrics,
    /// A command AIPerf does not define: its fields stay in [`Command::extra`]. AIPerf drops
    /// these before dispatch; a port answers them UNHANDLED.
    Other {
        /// The command string, as it arrived.
        command: String,
    },
}

impl CommandBody {
    /// The `command` string of this body.
    #[must_use]
    pub fn command_type(&self) -> CommandType {
        match self {
            Self::RegisterService { .. } => CommandType::RegisterService,
            Self::SpawnWorkers { .. } => CommandType::SpawnWorkers,
            Self::ShutdownWorkers { .. } => CommandType::ShutdownWorkers,
            Self::ProcessRecords { .. } => CommandType::ProcessRecords,
            Self::ProfileConfigure { .. } => CommandType::ProfileConfigure,
            Self::ProfileStart => CommandType::ProfileStart,
            Self::ProfileCancel => CommandType::ProfileCancel,
            Self::Shutdown => CommandType::Shutdown,
            Self::RealtimeMetrics => CommandType::RealtimeMetrics,
            Self::Other { command } => CommandType::from(command.as_str()),
        }
    }

    /// Takes the body of `command` out of a command's remaining keys.
    fn take_from<E: serde::de::Error>(
        command: CommandType,
        rest: &mut Map<String, Value>,
    ) -> Result<Self, E> {
        Ok(match command {
            CommandType::RegisterService => {
                let service_type = take_required(rest, "service_type")?;
                let state: String = take_required(rest, "state")?;
                let state = state.parse().map_err(E::custom)?;
                Self::RegisterService {
                    service_type,
                    state,
                }
            }
            CommandType::SpawnWorkers => Self::SpawnWorkers {
                num_workers: take_required(rest, "num_workers")?,
            },
            CommandType::ShutdownWorkers => Self::ShutdownWorkers {
                all_workers: take(rest, "all_workers")?.unwrap_or(false),
                worker_ids: take::<Option<_>, E>(rest, "worker_ids")?.flatten(),
                num_workers: take::<Option<_>, E>(rest, "num_workers")?.flatten(),
            },
            CommandType::ProcessRecords => Self::ProcessRecords {
                cancelled: take(rest, "cancelled")?.unwrap_or(false),
            },
            CommandType::ProfileConfigure => Self::ProfileConfigure {
                config: take_required(rest, "config")?,
            },
            CommandType::ProfileStart => Self::ProfileStart,
            CommandType::ProfileCancel => Self::ProfileCancel,
            CommandType::Shutdown => Self::Shutdown,
            CommandType::RealtimeMetrics => Self::RealtimeMetrics,
            CommandType::Other(command) => Self::Other { command },
        })
    }

    /// Writes the body's own keys.
    fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        match self {
            Self::RegisterService {
                service_type,
                state,
            } => {
                map.serialize_entry("service_type", service_type)?;
                map.serialize_entry("state", state)
            }
            Self::SpawnWorkers { num_workers } => map.serialize_entry("num_workers", num_workers),
            Self::ShutdownWorkers {
                all_workers,
                worker_ids,
                num_workers,
            } => {
                map.serialize_entry("all_workers", all_workers)?;
                optional_entry(map, "worker_ids", worker_ids.as_ref())?;
                optional_entry(map, "num_workers", num_workers.as_ref())
            }
            Self::ProcessRecords { cancelled } => map.serialize_entry("cancelled", cancelled),
            Self::ProfileConfigure { config } => map.serialize_entry("config", config),
            Self::ProfileStart
            | Self::ProfileCancel
            | Self::Shutdown
            | Self::RealtimeMetrics
            | Self::Other { .. } => Ok(()),
        }
    }
}

impl Command {
    /// A broadcast command from `service_id` (set a target field to aim it).
    #[must_use]
    pub fn new(
        service_id: impl Into<String>,
        command_id: impl Into<String>,
        body: CommandBody,
    ) -> Self {
        Self {
            request_ns: None,
            request_id: None,
            service_id: service_id.into(),
            target_service_id: None,
            target_service_type: None,
            command_id: command_id.into(),
            body,
            extra: Map::new(),
        }
    }

    /// The `command` string.
    #[must_use]
    pub fn command_type(&self) -> CommandType {
        self.body.command_type()
    }
}

impl Serialize for Command {
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
        match &self.body {
            CommandBody::Other { command } => map.serialize_entry("command", command)?,
            body => map.serialize_entry("command", body.command_type().as_str())?,
        }
        map.serialize_entry("command_id", &self.command_id)?;
        self.body.serialize_entries(&mut map)?;
        extra_entries(&mut map, &self.extra)?;
        map.end()
    }
}

/// The keys every command has, and the rest.
#[derive(Deserialize)]
struct CommandHead {
    /// See [`Command::request_ns`].
    #[serde(default)]
    request_ns: Option<u64>,
    /// See [`Command::request_id`].
    #[serde(default)]
    request_id: Option<String>,
    /// See [`Command::service_id`].
    service_id: String,
    /// See [`Command::target_service_id`].
    #[serde(default)]
    target_service_id: Option<String>,
    /// See [`Command::target_service_type`].
    #[serde(default)]
    target_service_type: Option<String>,
    /// The command string.
    command: CommandType,
    /// See [`Command::command_id`].
    command_id: String,
    /// The body's keys and the extra keys.
    #[serde(flatten, deserialize_with = "extra_fields")]
    rest: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut head = CommandHead::deserialize(deserializer)?;
        let body = CommandBody::take_from(head.command, &mut head.rest)?;
        Ok(Self {
            request_ns: head.request_ns,
            request_id: head.request_id,
            service_id: head.service_id,
            target_service_id: head.target_service_id,
            target_service_type: head.target_service_type,
            command_id: head.command_id,
            body,
            extra: head.rest,
        })
    }
}

impl Message for Command {
    const MESSAGE_TYPE: &'static str = MessageType::Command.as_str();

    fn check(&self) -> Result<(), MessageRuleError> {
        check_targets(
            self.target_service_id.as_ref(),
            self.target_service_type.as_ref(),
        )?;
        if let CommandBody::ShutdownWorkers {
            all_workers,
            worker_ids,
            num_workers,
        } = &self.body
        {
            let selections = usize::from(worker_ids.is_some()) + usize::from(num_workers.is_some());
            if *all_workers && selections > 0 {
                return Err(MessageRuleError::AllWorkersWithSelection);
            }
            if !*all_workers && selections != 1 {
                return Err(MessageRuleError::WorkerSelectionNotExactlyOne);
            }
        }
        Ok(())
    }
}
