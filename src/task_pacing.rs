//! When a background task runs next: the time arithmetic both task forms share.
//!
//! Every sum saturates: a due time past what the clock can represent (an interval of
//! `Duration::MAX`) means "never", and the task ends for that service.

use lifecycle_ecs_components::{BackgroundTaskParams, Pacing};
use tokio::time::{Duration, Instant};

/// How long a failed run waits before the next one: a run-once task retries after it; under
/// fixed delay it is added to the interval (AIPerf's `sleep(0.001)` after an error).
pub(crate) const RETRY_DELAY: Duration = Duration::from_millis(1);

pub(crate) use crate::deadline::after;

/// A task's interval as scheduled: `None` for a run-once task, else at least
/// [`BackgroundTaskParams::MIN_INTERVAL`] (a zero interval would run again at once, for ever).
pub(crate) fn effective_interval(interval: Option<Duration>) -> Option<Duration> {
    interval.map(|every| every.max(BackgroundTaskParams::MIN_INTERVAL))
}

/// When a service's first run is due, the task starting at `now`: right away when `immediate`
/// or run-once, else after one interval. `None`: never.
pub(crate) fn first_due(
    immediate: bool,
    interval: Option<Duration>,
    now: Instant,
) -> Option<Instant> {
    match effective_interval(interval) {
        Some(every) if !immediate => after(now, every),
        _ => Some(now),
    }
}

/// How one run ended, as far as its schedule cares.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FinishedRun {
    /// When the run was due.
    pub(crate) due: Instant,
    /// When it finished (its handed-over work included).
    pub(crate) finished: Instant,
    /// Whether it failed.
    pub(crate) failed: bool,
}

/// When the next run is due after `run`, or `None` if the task is over for that service (a
/// run-once task succeeded, `stop_on_error` after a failure, or a due time past the clock).
///
/// - run-once (`interval` `None`): after a failure, [`RETRY_DELAY`] later;
/// - fixed rate: the first tick of the `due + k·interval` grid after the run finished (a run that
///   overran skips the missed ticks; a failure changes nothing);
/// - fixed delay: the interval after the run finished, plus [`RETRY_DELAY`] after a failure.
pub(crate) fn next_due(
    interval: Option<Duration>,
    pacing: Pacing,
    stop_on_error: bool,
    run: FinishedRun,
) -> Option<Instant> {
    if run.failed && stop_on_error {
        return None;
    }
    let Some(every) = effective_interval(interval) else {
        return run
            .failed
            .then(|| after(run.finished, RETRY_DELAY))
            .flatten();
    };
    match pacing {
        Pacing::FixedDelay => {
            let rested = if run.failed {
                after(run.finished, RETRY_DELAY)?
            } else {
                run.finished
            };
            after(rested, every)
        }
        Pacing::FixedRate => {
            let next = after(run.due, every)?;
            if next > run.finished {
                return Some(next);
            }
            // The last grid tick at or before `finished`, then one interval on.
            let late = run.finished.saturating_duration_since(run.due).as_nanos();
            let into_tick = late % every.as_nanos();
            let into_tick = Duration::new(
                u64::try_from(into_tick / 1_000_000_000).unwrap_or(u64::MAX),
                u32::try_from(into_tick % 1_000_000_000).unwrap_or(0),
            );
            after(run.finished.checked_sub(into_tick)?, every)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    fn ended(start: Instant, due: u64, finished: u64, failed: bool) -> FinishedRun {
        FinishedRun {
            due: start + ms(due),
            finished: start + ms(finished),
            failed,
        }
    }

    #[test]
    fn fixed_rate_skips_the_ticks_a_run_overran_and_ignores_failures() {
        let start = Instant::now();
        let every = Some(ms(100));
        let next = |run| next_due(every, Pacing::FixedRate, false, run);
        assert_eq!(next(ended(start, 0, 30, false)), Some(start + ms(100)));
        assert_eq!(next(ended(start, 0, 30, true)), Some(start + ms(100)));
        assert_eq!(next(ended(start, 0, 250, false)), Some(start + ms(300)));
        assert_eq!(next(ended(start, 0, 300, false)), Some(start + ms(400)));
    }

    #[test]
    fn fixed_delay_backs_off_one_millisecond_after_a_failure() {
        let start = Instant::now();
        let next = |run| next_due(Some(ms(100)), Pacing::FixedDelay, false, run);
        assert_eq!(next(ended(start, 0, 30, false)), Some(start + ms(130)));
        assert_eq!(next(ended(start, 0, 30, true)), Some(start + ms(131)));
    }

    #[test]
    fn run_once_retries_after_a_failure_and_ends_after_a_success() {
        let start = Instant::now();
        let next = |run| next_due(None, Pacing::FixedRate, false, run);
        assert_eq!(next(ended(start, 0, 5, true)), Some(start + ms(6)));
        assert_eq!(next(ended(start, 0, 5, false)), None);
        assert_eq!(
            next_due(None, Pacing::FixedRate, true, ended(start, 0, 5, true)),
            None,
            "stop_on_error"
        );
    }

    #[test]
    fn huge_intervals_mean_never_and_tiny_ones_a_millisecond() {
        let start = Instant::now();
        for pacing in [Pacing::FixedRate, Pacing::FixedDelay] {
            for failed in [false, true] {
                let run = ended(start, 0, 5, failed);
                assert_eq!(next_due(Some(Duration::MAX), pacing, false, run), None);
            }
        }
        assert_eq!(first_due(false, Some(Duration::MAX), start), None);
        assert_eq!(first_due(true, Some(Duration::MAX), start), Some(start));
        assert_eq!(
            first_due(false, Some(Duration::ZERO), start),
            Some(start + ms(1))
        );
        let run = ended(start, 0, 0, false);
        assert_eq!(
            next_due(Some(Duration::ZERO), Pacing::FixedRate, false, run),
            Some(start + ms(1))
        );
    }
}
