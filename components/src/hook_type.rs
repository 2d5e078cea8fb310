//! Hook types: AIPerf's 15 built-ins plus user-defined ones.

use serde::{Serialize, Serializer};

/// A kind of hook: which moment a hook system runs at.
///
/// The 15 AIPerf hook types are variants; [`HookType::Custom`] names any other, by its string
/// (AIPerf accepts any custom string too). Each hook type has one schedule in the engine.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::HookType;
/// assert_eq!(HookType::OnInit.as_str(), "@on_init");
/// assert_eq!(HookType::parse("@on_stop"), Some(HookType::OnStop));
/// assert_eq!(HookType::parse("@ON_STOP"), None); // exact match, as AIPerf's membership test
/// let flush = HookType::Custom("@on_flush");
/// assert_eq!(flush.to_string(), "@on_flush");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookType {
    /// `@background_task`: periodic work while running.
    BackgroundTask,
    /// `@on_command`: handles a command message.
    OnCommand,
    /// `@on_init`: runs during `initialize`.
    OnInit,
    /// `@on_message`: handles a pub/sub message.
    OnMessage,
    /// `@on_realtime_metrics`: receives realtime metrics.
    OnRealtimeMetrics,
    /// `@on_profiling_progress`: profiling-phase progress.
    OnProfilingProgress,
    /// `@on_pull_message`: handles a pulled work item.
    OnPullMessage,
    /// `@on_records_progress`: records progress.
    OnRecordsProgress,
    /// `@on_start`: runs during `start`.
    OnStart,
    /// `@on_state_change`: runs on every real state change.
    OnStateChange,
    /// `@on_stop`: runs during `stop`, in reverse order.
    OnStop,
    /// `@on_request`: answers a request.
    OnRequest,
    /// `@on_warmup_progress`: warmup-phase progress.
    OnWarmupProgress,
    /// `@on_worker_status_summary`: a worker status summary arrived.
    OnWorkerStatusSummary,
    /// `@on_worker_update`: a worker health update arrived.
    OnWorkerUpdate,
    /// A user-defined hook type, named by its string (e.g. `"@on_flush"`).
    Custom(&'static str),
}

impl HookType {
    /// The 15 built-in hook types, in AIPerf's enum order.
    pub const BUILT_IN: [HookType; 15] = [
        Self::BackgroundTask,
        Self::OnCommand,
        Self::OnInit,
        Self::OnMessage,
        Self::OnRealtimeMetrics,
        Self::OnProfilingProgress,
        Self::OnPullMessage,
        Self::OnRecordsProgress,
        Self::OnStart,
        Self::OnStateChange,
        Self::OnStop,
        Self::OnRequest,
        Self::OnWarmupProgress,
        Self::OnWorkerStatusSummary,
        Self::OnWorkerUpdate,
    ];

    /// The hook type's string, as AIPerf spells it (`"@on_init"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BackgroundTask => "@background_task",
            Self::OnCommand => "@on_command",
            Self::OnInit => "@on_init",
            Self::OnMessage => "@on_message",
            Self::OnRealtimeMetrics => "@on_realtime_metrics",
            Self::OnProfilingProgress => "@on_profiling_progress",
            Self::OnPullMessage => "@on_pull_message",
            Self::OnRecordsProgress => "@on_records_progress",
            Self::OnStart => "@on_start",
            Self::OnStateChange => "@on_state_change",
            Self::OnStop => "@on_stop",
            Self::OnRequest => "@on_request",
            Self::OnWarmupProgress => "@on_warmup_progress",
            Self::OnWorkerStatusSummary => "@on_worker_status_summary",
            Self::OnWorkerUpdate => "@on_worker_update",
            Self::Custom(name) => name,
        }
    }

    /// The built-in hook type spelled exactly `s`, if any.
    pub fn parse(s: &str) -> Option<HookType> {
        Self::BUILT_IN.into_iter().find(|hook| hook.as_str() == s)
    }

    /// Whether hooks of this type run in reverse registration order (only ON_STOP).
    pub const fn runs_reversed(self) -> bool {
        matches!(self, Self::OnStop)
    }

    /// The bit of a built-in type in a [`HookTypeSet`]; `None` for custom types.
    const fn bit(self) -> Option<u16> {
        let index = match self {
            Self::BackgroundTask => 0,
            Self::OnCommand => 1,
            Self::OnInit => 2,
            Self::OnMessage => 3,
            Self::OnRealtimeMetrics => 4,
            Self::OnProfilingProgress => 5,
            Self::OnPullMessage => 6,
            Self::OnRecordsProgress => 7,
            Self::OnStart => 8,
            Self::OnStateChange => 9,
            Self::OnStop => 10,
            Self::OnRequest => 11,
            Self::OnWarmupProgress => 12,
            Self::OnWorkerStatusSummary => 13,
            Self::OnWorkerUpdate => 14,
            Self::Custom(_) => return None,
        };
        Some(1 << index)
    }
}

impl core::fmt::Display for HookType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for HookType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A set of hook types: what a kind provides.
///
/// Displays as AIPerf's list (`[@on_init, @on_stop]`), built-ins in enum order, then custom types
/// in insertion order.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{HookType, HookTypeSet};
/// let mut set = HookTypeSet::from_slice(&[HookType::OnStop, HookType::OnInit]);
/// set.insert(HookType::Custom("@on_flush"));
/// assert!(set.contains(HookType::OnInit));
/// assert!(!set.contains(HookType::OnMessage));
/// assert_eq!(set.to_string(), "[@on_init, @on_stop, @on_flush]");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookTypeSet {
    built_in: u16,
    custom: Vec<&'static str>,
}

impl HookTypeSet {
    /// An empty set.
    pub const fn new() -> Self {
        Self {
            built_in: 0,
            custom: Vec::new(),
        }
    }

    /// A set holding the given hook types.
    pub fn from_slice(hooks: &[HookType]) -> Self {
        let mut set = Self::new();
        set.extend(hooks.iter().copied());
        set
    }

    /// Adds a hook type.
    pub fn insert(&mut self, hook: HookType) {
        match (hook.bit(), hook) {
            (Some(bit), _) => self.built_in |= bit,
            (None, HookType::Custom(name)) => {
                if !self.custom.contains(&name) {
                    self.custom.push(name);
                }
            }
            (None, _) => {}
        }
    }

    /// Adds every hook type of `other`.
    pub fn union_with(&mut self, other: &HookTypeSet) {
        self.extend(other.iter());
    }

    /// Whether the set holds `hook` (custom types compare their exact string).
    pub fn contains(&self, hook: HookType) -> bool {
        match (hook.bit(), hook) {
            (Some(bit), _) => self.built_in & bit != 0,
            (None, HookType::Custom(name)) => self.custom.contains(&name),
            (None, _) => false,
        }
    }

    /// The hook types in the set: built-ins in enum order, then custom ones.
    pub fn iter(&self) -> impl Iterator<Item = HookType> + '_ {
        HookType::BUILT_IN
            .into_iter()
            .filter(|hook| self.contains(*hook))
            .chain(self.custom.iter().map(|name| HookType::Custom(name)))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.built_in == 0 && self.custom.is_empty()
    }
}

impl Extend<HookType> for HookTypeSet {
    fn extend<I: IntoIterator<Item = HookType>>(&mut self, iter: I) {
        for hook in iter {
            self.insert(hook);
        }
    }
}

impl core::fmt::Display for HookTypeSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[")?;
        for (i, hook) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(hook.as_str())?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_fifteen_built_ins_parse_back() {
        assert_eq!(HookType::BUILT_IN.len(), 15);
        for hook in HookType::BUILT_IN {
            assert_eq!(HookType::parse(hook.as_str()), Some(hook));
        }
    }

    #[test]
    fn custom_types_are_distinct_by_string() {
        let set = HookTypeSet::from_slice(&[HookType::Custom("@a")]);
        assert!(set.contains(HookType::Custom("@a")));
        assert!(!set.contains(HookType::Custom("@b")));
        assert!(!set.contains(HookType::OnInit));
    }

    #[test]
    fn only_on_stop_runs_reversed() {
        let reversed: Vec<_> = HookType::BUILT_IN
            .into_iter()
            .filter(|h| h.runs_reversed())
            .collect();
        assert_eq!(reversed, vec![HookType::OnStop]);
    }
}
