//! [`CommandType`]: the `command` string of a command and of its response.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// AIPerf's `CommandType | str`: the nine commands AIPerf defines, or any other string.
///
/// Known names compare case-insensitively and are written lowercase; an
/// [`Other`](Self::Other) string is kept and written exactly as it arrived.
///
/// # Example
/// ```
/// use lifecycle_ecs::messaging::CommandType;
/// assert_eq!(CommandType::from("PROFILE_START"), CommandType::ProfileStart);
/// assert_eq!(CommandType::ProfileStart.as_str(), "profile_start");
/// assert_eq!(CommandType::from("reload"), CommandType::Other("reload".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommandType {
    /// `realtime_metrics`.
    RealtimeMetrics,
    /// `process_records`.
    ProcessRecords,
    /// `profile_cancel`.
    ProfileCancel,
    /// `profile_configure`.
    ProfileConfigure,
    /// `profile_start`.
    ProfileStart,
    /// `register_service`.
    RegisterService,
    /// `shutdown`.
    Shutdown,
    /// `shutdown_workers`.
    ShutdownWorkers,
    /// `spawn_workers`.
    SpawnWorkers,
    /// A command AIPerf does not define (AIPerf itself drops these before dispatch; a port
    /// answers them UNHANDLED).
    Other(String),
}

impl CommandType {
    /// The nine commands AIPerf defines, in the reference's order.
    pub const KNOWN: [CommandType; 9] = [
        Self::RealtimeMetrics,
        Self::ProcessRecords,
        Self::ProfileCancel,
        Self::ProfileConfigure,
        Self::ProfileStart,
        Self::RegisterService,
        Self::Shutdown,
        Self::ShutdownWorkers,
        Self::SpawnWorkers,
    ];

    /// The wire string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::RealtimeMetrics => "realtime_metrics",
            Self::ProcessRecords => "process_records",
            Self::ProfileCancel => "profile_cancel",
            Self::ProfileConfigure => "profile_configure",
            Self::ProfileStart => "profile_start",
            Self::RegisterService => "register_service",
            Self::Shutdown => "shutdown",
            Self::ShutdownWorkers => "shutdown_workers",
            Self::SpawnWorkers => "spawn_workers",
            Self::Other(text) => text,
        }
    }

    /// Whether this is one of the nine commands AIPerf defines.
    #[must_use]
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl From<&str> for CommandType {
    fn from(text: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|known| known.as_str().eq_ignore_ascii_case(text))
            .unwrap_or_else(|| Self::Other(text.to_owned()))
    }
}

impl core::fmt::Display for CommandType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CommandType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CommandType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from(&*text))
    }
}
