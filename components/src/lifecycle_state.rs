//! The lifecycle state machine's states.

use bevy_ecs::component::Component;
use serde::{Deserialize, Serialize};

/// Where a service is in its lifecycle.
///
/// `CREATED → INITIALIZING → INITIALIZED → STARTING → RUNNING → STOPPING → STOPPED`, or `FAILED`.
/// The transient states ([`Initializing`](Self::Initializing), [`Starting`](Self::Starting),
/// [`Stopping`](Self::Stopping)) are held while a phase's hooks run; [`Stopped`](Self::Stopped) and
/// [`Failed`](Self::Failed) are terminal. The state is a plain value (one byte): transitions never
/// move an entity between archetypes.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::LifecycleState;
/// assert_eq!(LifecycleState::Initializing.name(), "initializing");
/// assert_eq!(LifecycleState::Initializing.title(), "Initializing");
/// assert!(LifecycleState::Stopping.is_transient());
/// assert_eq!("RUNNING".parse::<LifecycleState>(), Ok(LifecycleState::Running));
/// ```
#[derive(
    Component,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum LifecycleState {
    /// Spawned; nothing has run yet.
    #[default]
    Created,
    /// ON_INIT hooks are running.
    Initializing,
    /// Initialization finished.
    Initialized,
    /// ON_START hooks are running.
    Starting,
    /// Started and running.
    Running,
    /// ON_STOP hooks are running.
    Stopping,
    /// Stopped cleanly (terminal).
    Stopped,
    /// A phase failed (terminal).
    Failed,
}

impl LifecycleState {
    /// Every state, in lifecycle order.
    pub const ALL: [LifecycleState; 8] = [
        Self::Created,
        Self::Initializing,
        Self::Initialized,
        Self::Starting,
        Self::Running,
        Self::Stopping,
        Self::Stopped,
        Self::Failed,
    ];

    /// The lowercase name, as AIPerf's string values (`"initializing"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Initializing => "initializing",
            Self::Initialized => "initialized",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }

    /// The capitalised name (`"Initializing"`), used as an exit error's `operation`.
    pub const fn title(self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::Initializing => "Initializing",
            Self::Initialized => "Initialized",
            Self::Starting => "Starting",
            Self::Running => "Running",
            Self::Stopping => "Stopping",
            Self::Stopped => "Stopped",
            Self::Failed => "Failed",
        }
    }

    /// The position of this state in [`LifecycleState::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether hooks are running in this state (INITIALIZING, STARTING, STOPPING).
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::Initializing | Self::Starting | Self::Stopping)
    }

    /// Whether nothing leaves this state (STOPPED, FAILED).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Stopped | Self::Failed)
    }
}

impl core::fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no [`LifecycleState`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown lifecycle state {0:?} (expected one of created, initializing, initialized, starting, running, stopping, stopped, failed)"
)]
pub struct UnknownStateError(pub String);

impl core::str::FromStr for LifecycleState {
    type Err = UnknownStateError;

    /// Parses a state name case-insensitively, as AIPerf's enum compares.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownStateError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for state in LifecycleState::ALL {
            assert_eq!(state.name().parse::<LifecycleState>(), Ok(state));
            assert_eq!(state.title().parse::<LifecycleState>(), Ok(state));
        }
        assert!("paused".parse::<LifecycleState>().is_err());
    }

    #[test]
    fn serializes_as_lowercase_name() {
        let json = serde_json::to_string(&LifecycleState::Running).expect("serializes");
        assert_eq!(json, "\"running\"");
    }

    #[test]
    fn state_is_one_byte() {
        assert_eq!(size_of::<LifecycleState>(), 1);
    }
}
