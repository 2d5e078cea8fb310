//! The three lifecycle operations.

use serde::Serialize;

use crate::{HookType, LifecycleState};

/// A lifecycle operation: what `initialize`, `start` and `stop` do to a batch of services.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{HookType, LifecycleState, Operation};
/// assert_eq!(Operation::Start.transient_state(), LifecycleState::Starting);
/// assert_eq!(Operation::Start.final_state(), LifecycleState::Running);
/// assert_eq!(Operation::Stop.hook_type(), HookType::OnStop);
/// assert_eq!(Operation::Initialize.title(), "Initializing");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// CREATED → INITIALIZING → INITIALIZED, running ON_INIT hooks.
    Initialize,
    /// INITIALIZED → STARTING → RUNNING, running ON_START hooks.
    Start,
    /// any → STOPPING → STOPPED, running ON_STOP hooks in reverse.
    Stop,
}

impl Operation {
    /// The operation's verb (`"initialize"`).
    pub const fn verb(self) -> &'static str {
        match self {
            Self::Initialize => "initialize",
            Self::Start => "start",
            Self::Stop => "stop",
        }
    }

    /// The state held while the operation's hooks run.
    pub const fn transient_state(self) -> LifecycleState {
        match self {
            Self::Initialize => LifecycleState::Initializing,
            Self::Start => LifecycleState::Starting,
            Self::Stop => LifecycleState::Stopping,
        }
    }

    /// The state reached when the operation succeeds.
    pub const fn final_state(self) -> LifecycleState {
        match self {
            Self::Initialize => LifecycleState::Initialized,
            Self::Start => LifecycleState::Running,
            Self::Stop => LifecycleState::Stopped,
        }
    }

    /// The hook type the operation runs.
    pub const fn hook_type(self) -> HookType {
        match self {
            Self::Initialize => HookType::OnInit,
            Self::Start => HookType::OnStart,
            Self::Stop => HookType::OnStop,
        }
    }

    /// The exit-error `operation` of a failure in this phase (`"Initializing"`).
    pub const fn title(self) -> &'static str {
        self.transient_state().title()
    }

    /// The phase a state change into `state` belongs to (`None` for CREATED, RUNNING→…, FAILED).
    pub const fn of_state(state: LifecycleState) -> Option<Operation> {
        match state {
            LifecycleState::Initializing | LifecycleState::Initialized => Some(Self::Initialize),
            LifecycleState::Starting | LifecycleState::Running => Some(Self::Start),
            LifecycleState::Stopping | LifecycleState::Stopped => Some(Self::Stop),
            LifecycleState::Created | LifecycleState::Failed => None,
        }
    }
}

impl core::fmt::Display for Operation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.verb())
    }
}

/// What an operation does to a service in a given state (AIPerf's op×state table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The service moves through the operation's transient state.
    Move,
    /// Nothing happens but one `debug` event (e.g. `initialize` while RUNNING).
    Ignore,
    /// `InvalidStateError` (e.g. `start` from CREATED).
    Invalid,
}

impl Operation {
    /// AIPerf's op×state table. `stop` is gated by the stop-requested flag only, never by state.
    ///
    /// ```
    /// use lifecycle_ecs_components::{Disposition, LifecycleState::*, Operation};
    /// assert_eq!(Operation::Initialize.disposition(Created, false), Disposition::Move);
    /// assert_eq!(Operation::Initialize.disposition(Running, false), Disposition::Ignore);
    /// assert_eq!(Operation::Initialize.disposition(Stopped, true), Disposition::Invalid);
    /// assert_eq!(Operation::Start.disposition(Created, false), Disposition::Invalid);
    /// assert_eq!(Operation::Stop.disposition(Created, false), Disposition::Move);
    /// assert_eq!(Operation::Stop.disposition(Running, true), Disposition::Ignore);
    /// ```
    pub const fn disposition(self, state: LifecycleState, stop_requested: bool) -> Disposition {
        use LifecycleState as S;
        match self {
            Self::Initialize => match state {
                S::Created => Disposition::Move,
                S::Initializing | S::Initialized | S::Starting | S::Running => Disposition::Ignore,
                S::Stopping | S::Stopped | S::Failed => Disposition::Invalid,
            },
            Self::Start => match state {
                S::Initialized => Disposition::Move,
                S::Starting | S::Running => Disposition::Ignore,
                S::Created | S::Initializing | S::Stopping | S::Stopped | S::Failed => {
                    Disposition::Invalid
                }
            },
            Self::Stop => {
                if stop_requested {
                    Disposition::Ignore
                } else {
                    Disposition::Move
                }
            }
        }
    }
}
