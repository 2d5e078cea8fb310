//! The `fleet` subcommand's command-line arguments.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

/// `lifecycle-ecs fleet`: spawn a fleet of worker services and time their whole lifecycle.
#[derive(Args, Clone, Debug)]
pub struct FleetArgs {
    /// How many worker services to spawn (at least 1).
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = parse_workers)]
    pub workers: usize,

    /// How many hooks to register per phase (ON_INIT, ON_START, ON_STOP) and per kind.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub hooks: usize,

    /// The fraction of workers whose first ON_INIT hook fails: exactly floor(F·N) workers, spread
    /// evenly over the fleet (a number in [0, 1]).
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = parse_fail_rate)]
    pub fail_rate: f64,

    /// How many child services to attach to each worker.
    #[arg(long, value_name = "C", default_value_t = 0)]
    pub children: usize,

    /// Make the per-phase hooks async: each hands every service a future that yields once to
    /// tokio (the hook's result comes back from the runtime).
    #[arg(long)]
    pub async_hooks: bool,

    /// Give every worker a heartbeat background task running every `MS` milliseconds (at
    /// least 1).
    #[arg(long, value_name = "MS", value_parser = parse_background_interval)]
    pub background_interval: Option<u64>,

    /// How the heartbeat runs: `batch` (one system pass over the due workers; the default) or
    /// `async` (a tokio task per worker, cancelled and awaited at stop).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = BackgroundMode::Batch)]
    pub background_mode: BackgroundMode,

    /// How long the fleet stays RUNNING before stop, in seconds (default 1 with background tasks,
    /// else 0); `inf` runs until SIGINT or SIGTERM.
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub duration: Option<f64>,

    /// Also write the results as JSON to this file (created or truncated before the run; its
    /// folder must exist).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
}

/// How the workers' heartbeat background task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackgroundMode {
    /// A batch task: one system pass over every due worker.
    Batch,
    /// An async task per worker on tokio.
    Async,
}

impl FleetArgs {
    /// How long the fleet stays RUNNING: `--duration`, else 1 s with background tasks, else 0;
    /// `None` for `--duration inf` (until SIGINT or SIGTERM).
    pub fn running_time(&self) -> Option<Duration> {
        let seconds = self
            .duration
            .unwrap_or(if self.background_interval.is_some() {
                1.0
            } else {
                0.0
            });
        // `parse_duration` let through only `inf` and what `Duration` holds.
        Duration::try_from_secs_f64(seconds).ok()
    }

    /// The total number of services: every worker and its children.
    ///
    /// `None` if it overflows `usize` (rejected by [`validate`](Self::validate)).
    pub fn services(&self) -> Option<usize> {
        self.children
            .checked_add(1)
            .and_then(|per_worker| per_worker.checked_mul(self.workers))
    }

    /// How many workers fail in ON_INIT: `floor(fail_rate × workers)`.
    pub fn failing_workers(&self) -> usize {
        // `fail_rate` is in [0, 1], so the product is in [0, workers] and the cast is exact.
        (self.fail_rate * self.workers as f64).floor() as usize
    }

    /// Checks the constraints between arguments that clap cannot check one flag at a time.
    ///
    /// # Errors
    /// A message for the user when the arguments do not make a runnable fleet.
    pub fn validate(&self) -> Result<(), String> {
        let services = self.services().ok_or_else(|| {
            format!(
                "{} workers × (1 + {} children) services is too many",
                self.workers, self.children
            )
        })?;
        // Service ids are generated from a 32-bit serial: more would repeat ids.
        if u32::try_from(services).is_err() {
            return Err(format!(
                "{services} services is too many: at most {} services fit in one engine",
                u32::MAX
            ));
        }
        if self.hooks == 0 && self.failing_workers() > 0 {
            return Err(
                "--fail-rate needs at least one ON_INIT hook to fail in: pass --hooks 1 or more"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// Parses `--workers`: a whole number, at least 1.
fn parse_workers(value: &str) -> Result<usize, String> {
    let workers: usize = value
        .parse()
        .map_err(|error| format!("`{value}` is not a whole number of workers: {error}"))?;
    if workers == 0 {
        return Err("the fleet needs at least 1 worker".to_owned());
    }
    Ok(workers)
}

/// Parses `--duration`: seconds, at least 0 and short enough for the clock to count from now,
/// or `inf` (until a signal).
fn parse_duration(value: &str) -> Result<f64, String> {
    let seconds: f64 = value
        .parse()
        .map_err(|error| format!("`{value}` is not a number of seconds: {error}"))?;
    if seconds.is_nan() {
        return Err(format!(
            "`{value}` is not a number of seconds: pass seconds, or `inf` to run until \
             SIGINT/SIGTERM"
        ));
    }
    if seconds < 0.0 {
        return Err(format!(
            "the duration cannot be negative, got {value}: pass seconds, or `inf` to run until \
             SIGINT/SIGTERM"
        ));
    }
    if seconds == f64::INFINITY {
        return Ok(seconds);
    }
    let fits = Duration::try_from_secs_f64(seconds)
        .ok()
        .is_some_and(|duration| Instant::now().checked_add(duration).is_some());
    if !fits {
        return Err(format!(
            "{value} seconds is longer than the clock can count: pass `inf` to run until \
             SIGINT/SIGTERM"
        ));
    }
    Ok(seconds)
}

/// Parses `--background-interval`: whole milliseconds, at least 1.
fn parse_background_interval(value: &str) -> Result<u64, String> {
    let interval: u64 = value
        .parse()
        .map_err(|error| format!("`{value}` is not a whole number of milliseconds: {error}"))?;
    if interval == 0 {
        return Err("the background interval must be at least 1 ms".to_owned());
    }
    Ok(interval)
}

/// Parses `--fail-rate`: a number in [0, 1].
fn parse_fail_rate(value: &str) -> Result<f64, String> {
    let rate: f64 = value
        .parse()
        .map_err(|error| format!("`{value}` is not a number: {error}"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!(
            "the fail rate must be between 0 and 1 (a fraction of the workers), got {value}"
        ));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(workers: usize, hooks: usize, fail_rate: f64, children: usize) -> FleetArgs {
        FleetArgs {
            workers,
            hooks,
            fail_rate,
            children,
            async_hooks: false,
            background_interval: None,
            background_mode: BackgroundMode::Batch,
            duration: None,
            json: None,
        }
    }

    #[test]
    fn fail_rate_must_be_a_fraction() {
        assert_eq!(parse_fail_rate("0.25"), Ok(0.25));
        assert_eq!(parse_fail_rate("1"), Ok(1.0));
        assert!(parse_fail_rate("2").is_err());
        assert!(parse_fail_rate("-0.1").is_err());
        assert!(parse_fail_rate("NaN").is_err());
        assert!(parse_fail_rate("lots").is_err());
    }

    #[test]
    fn durations_are_seconds_the_clock_can_count_or_inf() {
        assert_eq!(parse_duration("1.5"), Ok(1.5));
        assert_eq!(parse_duration("0"), Ok(0.0));
        assert_eq!(parse_duration("inf"), Ok(f64::INFINITY));
        for bad in ["NaN", "-1", "-inf", "1e30", "1e19", "soon"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let mut run = args(1, 1, 0.0, 0);
        run.duration = Some(f64::INFINITY);
        assert_eq!(run.running_time(), None);
        run.duration = Some(2.0);
        assert_eq!(run.running_time(), Some(Duration::from_secs(2)));
        run.duration = None;
        assert_eq!(run.running_time(), Some(Duration::ZERO));
        run.background_interval = Some(10);
        assert_eq!(run.running_time(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn background_intervals_are_positive() {
        assert_eq!(parse_background_interval("5"), Ok(5));
        assert!(parse_background_interval("0").is_err());
        assert!(parse_background_interval("-3").is_err());
    }

    #[test]
    fn workers_must_be_positive() {
        assert_eq!(parse_workers("7"), Ok(7));
        assert!(parse_workers("0").is_err());
        assert!(parse_workers("abc").is_err());
    }

    #[test]
    fn failing_workers_is_the_floor() {
        assert_eq!(args(2_000, 1, 0.1, 0).failing_workers(), 200);
        assert_eq!(args(999, 1, 0.01, 0).failing_workers(), 9);
        assert_eq!(args(10, 1, 1.0, 0).failing_workers(), 10);
        assert_eq!(args(10, 1, 0.0, 0).failing_workers(), 0);
    }

    #[test]
    fn cross_argument_checks() {
        assert_eq!(args(10, 2, 0.5, 3).services(), Some(40));
        assert!(args(10, 1, 0.5, 3).validate().is_ok());
        assert!(args(10, 0, 0.5, 0).validate().is_err());
        assert!(args(10, 0, 0.0, 0).validate().is_ok());
        assert!(args(usize::MAX, 1, 0.0, 1).validate().is_err());
        assert!(args(1 << 31, 1, 0.0, 1).validate().is_err());
    }
}
