//! The results of a fleet run, as written to `--json`.

use std::time::Duration;

use lifecycle_ecs::exit_report::ExitErrorGroup;
use lifecycle_ecs::{LifecycleState, OperationReport};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::memory::MemorySample;

/// Everything a fleet run measured. Serialized as the `--json` file.
#[derive(Clone, Debug, Serialize)]
pub struct FleetSummary {
    /// The version of `lifecycle-ecs` that ran.
    pub version: &'static str,
    /// How many workers were spawned (`--workers`).
    pub workers: usize,
    /// Children per worker (`--children`).
    pub children: usize,
    /// Every service spawned: `workers × (1 + children)`.
    pub services: usize,
    /// Hooks per phase and per kind (`--hooks`).
    pub hooks: usize,
    /// Whether the per-phase hooks were async (`--async-hooks`).
    pub async_hooks: bool,
    /// Hook systems registered in all, over every phase and kind.
    pub hook_systems: usize,
    /// `--fail-rate`.
    pub fail_rate: f64,
    /// The workers made to fail in ON_INIT: `floor(fail_rate × workers)`.
    pub failing_workers: usize,
    /// Time and outcome of each phase.
    pub phases: Phases,
    /// Whether SIGINT/SIGTERM ended the run (exit code 130).
    pub signalled: bool,
    /// Whether the graceful stop after a signal was abandoned (second signal or 10 s budget).
    pub shutdown_aborted: bool,
    /// Services left neither stopped nor failed by an abandoned shutdown.
    pub unfinished_services: usize,
    /// The background task and its achieved rate.
    pub background: BackgroundStats,
    /// How many services ended in each state, by lowercase state name.
    pub final_states: StateCounts,
    /// How many services ended FAILED.
    pub failures: usize,
    /// How many hook failures the engine recorded (the exact total, however many records its
    /// failure window kept).
    pub hook_failures: usize,
    /// How many times the fleet's hooks ran for a service, summed over the services.
    pub hook_calls: u64,
    /// The failed services' exit errors grouped by details, largest group first (at most
    /// [`MAX_GROUPS`]).
    pub exit_error_groups: Vec<ExitErrorGroup>,
    /// How many groups there were before the cap.
    pub exit_error_group_count: usize,
    /// Resident memory just before spawning, in bytes (`null` where it cannot be measured).
    pub rss_before_spawn_bytes: Option<u64>,
    /// Resident memory after stopping, in bytes.
    pub rss_after_stop_bytes: Option<u64>,
    /// The process's peak resident memory, in bytes.
    pub peak_rss_bytes: Option<u64>,
    /// `(peak_rss_bytes − rss_before_spawn_bytes) / services`.
    pub bytes_per_service: Option<f64>,
    /// Whether every service stopped cleanly (the exit code is 0 exactly then).
    pub clean: bool,
}

/// The most exit-error groups reported.
pub const MAX_GROUPS: usize = 10;

/// The four timed phases.
#[derive(Clone, Debug, Serialize)]
pub struct Phases {
    /// Spawning the services (and attaching the children).
    pub spawn: SpawnStats,
    /// `initialize(Selection::All)`.
    pub initialize: PhaseStats,
    /// `start(Selection::All)`.
    pub start: PhaseStats,
    /// `stop(Selection::All)`.
    pub stop: StopStats,
}

/// The stop phase: its stats, and how long draining every task took.
#[derive(Clone, Debug, Serialize)]
pub struct StopStats {
    /// The whole stop phase.
    #[serde(flatten)]
    pub stats: PhaseStats,
    /// Seconds from the stop request until every background and async task had ended (they end
    /// inside the stop operation, so this is its wall time).
    pub drain_s: f64,
}

/// The workers' heartbeat background task (`--background-interval`).
#[derive(Clone, Debug, Serialize)]
pub struct BackgroundStats {
    /// The heartbeat interval in milliseconds (`None`: no background task).
    pub interval_ms: Option<u64>,
    /// `batch` or `async`.
    pub mode: super::BackgroundMode,
    /// How long the fleet stayed RUNNING, in seconds (measured).
    pub duration_s: f64,
    /// Heartbeat runs while RUNNING.
    pub runs: u64,
    /// `runs / duration_s`.
    pub runs_per_s: f64,
    /// The ideal rate: `workers × 1000 / interval_ms`.
    pub ideal_runs_per_s: f64,
    /// Timers still scheduled and async tasks still alive after stop returned (must be 0).
    pub leaked_tasks: usize,
}

/// The time one phase took and what it did.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseStats {
    /// Wall time of the phase, in seconds.
    pub total_s: f64,
    /// `total_s / services`, in nanoseconds.
    pub ns_per_service: f64,
    /// Services that reached the phase's final state (spawned, for spawn).
    pub moved: usize,
    /// Services that ended FAILED.
    pub failed: usize,
    /// Services the operation ignored.
    pub ignored: usize,
    /// Services whose state refused the operation.
    pub invalid: usize,
}

impl PhaseStats {
    /// The stats of an operation that took `elapsed` over a fleet of `services`.
    pub fn of_operation(elapsed: Duration, services: usize, report: &OperationReport) -> Self {
        Self {
            failed: report.failed.len(),
            ignored: report.ignored.len(),
            invalid: report.invalid.len() + report.not_services.len(),
            ..Self::timed(elapsed, services, report.moved)
        }
    }

    /// Stats with only a time and a count of moved services.
    pub fn timed(elapsed: Duration, services: usize, moved: usize) -> Self {
        let total_s = elapsed.as_secs_f64();
        Self {
            total_s,
            ns_per_service: total_s * 1e9 / services.max(1) as f64,
            moved,
            failed: 0,
            ignored: 0,
            invalid: 0,
        }
    }
}

/// The spawn phase: its stats, and the share of it spent attaching children.
#[derive(Clone, Debug, Serialize)]
pub struct SpawnStats {
    /// The whole spawn phase.
    #[serde(flatten)]
    pub stats: PhaseStats,
    /// Seconds spent in `attach_child` (included in `total_s`).
    pub attach_s: f64,
}

/// Services per state, indexed by [`LifecycleState::index`]; serialized as an object from
/// lowercase state name to count, in lifecycle order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts(pub [usize; 8]);

impl StateCounts {
    /// The count of services in `state`.
    pub fn get(self, state: LifecycleState) -> usize {
        self.0[state.index()]
    }
}

impl Serialize for StateCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(LifecycleState::ALL.len()))?;
        for state in LifecycleState::ALL {
            map.serialize_entry(state.name(), &self.get(state))?;
        }
        map.end()
    }
}

/// The memory figures of a run from the samples before spawning and after stopping.
pub struct MemoryFigures {
    /// RSS before spawning.
    pub before: Option<u64>,
    /// RSS after stopping.
    pub after: Option<u64>,
    /// Peak RSS.
    pub peak: Option<u64>,
    /// Bytes per service.
    pub per_service: Option<f64>,
}

impl MemoryFigures {
    /// Derives the figures from the two samples (either may be missing).
    pub fn new(before: Option<MemorySample>, after: Option<MemorySample>, services: usize) -> Self {
        let before_rss = before.map(|sample| sample.current_rss);
        let peak = after.map(|sample| sample.peak_rss);
        let per_service = before_rss
            .zip(peak)
            .map(|(before, peak)| peak.saturating_sub(before) as f64 / services.max(1) as f64);
        Self {
            before: before_rss,
            after: after.map(|sample| sample.current_rss),
            peak,
            per_service,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_counts_serialize_by_name_in_lifecycle_order() {
        let mut counts = StateCounts::default();
        counts.0[LifecycleState::Stopped.index()] = 5;
        counts.0[LifecycleState::Failed.index()] = 1;
        let json = serde_json::to_string(&counts).expect("serializes");
        assert_eq!(
            json,
            r#"{"created":0,"initializing":0,"initialized":0,"starting":0,"running":0,"stopping":0,"stopped":5,"failed":1}"#
        );
    }

    #[test]
    fn bytes_per_service_is_the_growth_over_the_services() {
        let before = MemorySample {
            current_rss: 1_000,
            peak_rss: 1_000,
        };
        let after = MemorySample {
            current_rss: 3_000,
            peak_rss: 5_000,
        };
        let figures = MemoryFigures::new(Some(before), Some(after), 100);
        assert_eq!(figures.per_service, Some(40.0));
        assert_eq!(figures.peak, Some(5_000));
        assert!(
            MemoryFigures::new(None, Some(after), 100)
                .per_service
                .is_none()
        );
    }

    #[test]
    fn ns_per_service_divides_by_the_fleet() {
        let stats = PhaseStats::timed(Duration::from_millis(2), 1_000, 1_000);
        assert!((stats.ns_per_service - 2_000.0).abs() < 1e-6);
    }
}
