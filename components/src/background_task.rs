//! Background-task parameters (AIPerf's `@background_task(interval, immediate, stop_on_error)`).

use core::time::Duration;
use std::sync::Arc;

use bevy_ecs::world::EntityRef;

/// How often a background task runs.
///
/// Any `Duration` is accepted: one under [`BackgroundTaskParams::MIN_INTERVAL`] counts as that
/// minimum (a zero interval would run again at once, for ever), and one too long for the clock
/// (`Duration::MAX`) means "never again" (the task ends for the service after its run).
#[derive(Clone)]
pub enum TaskInterval {
    /// Every `Duration`.
    Fixed(Duration),
    /// Computed per service from its components (AIPerf's callable interval): at every iteration
    /// by the batch form, once when its task starts by the async form. A panic in it is caught:
    /// at start it fails the service's start (like a panicking hook), later it is recorded as a
    /// failure of the task and ends the task for that service.
    PerService(Arc<dyn Fn(EntityRef<'_>) -> Duration + Send + Sync>),
    /// No interval: runs until its first success (AIPerf's `interval=None`).
    Once,
}

impl core::fmt::Debug for TaskInterval {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Fixed(interval) => write!(f, "Fixed({interval:?})"),
            Self::PerService(_) => f.write_str("PerService(..)"),
            Self::Once => f.write_str("Once"),
        }
    }
}

/// When the next run is due after a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pacing {
    /// Next due = previous due + interval; a run that overruns skips the missed ticks and never
    /// overlaps itself; a failed run changes nothing (no back-off). The default (an improvement on
    /// AIPerf, whose period drifts by the run time).
    #[default]
    FixedRate,
    /// Sleep the interval after each run, counted from when the run (and the work it handed to
    /// tokio) finished; after a failed run, 1 ms more (AIPerf's behaviour: a failing 100 ms task
    /// runs at 0, 101, 202 ms).
    FixedDelay,
}

/// A background task's parameters.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use lifecycle_ecs_components::{BackgroundTaskParams, Pacing};
/// let heartbeat = BackgroundTaskParams::every(Duration::from_secs(5)).immediate(false);
/// assert!(!heartbeat.immediate);
/// assert_eq!(heartbeat.pacing, Pacing::FixedRate);
/// assert!(BackgroundTaskParams::once().immediate, "AIPerf's decorator default");
/// ```
#[derive(Clone, Debug)]
pub struct BackgroundTaskParams {
    /// How often it runs.
    pub interval: TaskInterval,
    /// Run right away when the service starts (default `true`, as AIPerf's decorator), else after
    /// one interval.
    pub immediate: bool,
    /// Stop running this task for a service after its first failure (default `false`).
    pub stop_on_error: bool,
    /// Fixed rate (default) or fixed delay.
    pub pacing: Pacing,
}

impl BackgroundTaskParams {
    /// The shortest interval a task runs at: shorter ones (zero included) count as this.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

    /// Runs every `interval` (at least [`MIN_INTERVAL`](Self::MIN_INTERVAL); `Duration::MAX`:
    /// the first run only, or never if not `immediate`).
    pub fn every(interval: Duration) -> Self {
        Self::with_interval(TaskInterval::Fixed(interval))
    }

    /// Runs at an interval computed per service, at every iteration.
    pub fn every_per_service(
        interval: impl Fn(EntityRef<'_>) -> Duration + Send + Sync + 'static,
    ) -> Self {
        Self::with_interval(TaskInterval::PerService(Arc::new(interval)))
    }

    /// Runs until its first success.
    pub fn once() -> Self {
        Self::with_interval(TaskInterval::Once)
    }

    fn with_interval(interval: TaskInterval) -> Self {
        Self {
            interval,
            immediate: true,
            stop_on_error: false,
            pacing: Pacing::FixedRate,
        }
    }

    /// Sets `immediate`.
    pub fn immediate(mut self, immediate: bool) -> Self {
        self.immediate = immediate;
        self
    }

    /// Sets `stop_on_error`.
    pub fn stop_on_error(mut self, stop_on_error: bool) -> Self {
        self.stop_on_error = stop_on_error;
        self
    }

    /// Sets the pacing.
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }
}
