//! The run loop: drives a started fleet until every service ended, a deadline, or a signal.
//!
//! Each turn of [`Engine::run`] carries out the stop requests that arrived through the
//! [`StopHandle`](crate::StopHandle) (from hooks, background tasks, other threads), returns once
//! every service is STOPPED or FAILED, runs the batch background tasks that are due, and sleeps
//! until the next timer, the next stop request, or `shutdown`. Async background tasks and hook
//! futures run on the runtime meanwhile. Every wait is on tokio's clock, so tests drive it on
//! paused time.
//!
//! Cancellation: dropping the future `run` returns is safe at any `.await`; the engine stays
//! consistent (an operation in progress cancels the hook futures it was waiting on).

use std::future::Future;
use std::time::Duration;

use bevy_ecs::query::With;
use lifecycle_ecs_components::{Lifecycle, LifecycleState};
use tokio::time::Instant;

use crate::deadline::{from_now, sleep_until};
use crate::engine::Engine;
use crate::phase_step::{PhaseStep, StepContext};
use crate::shutdown::ShutdownReport;
use crate::signals::TerminationSignals;

/// How a run loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every service is STOPPED or FAILED.
    AllEnded,
    /// The duration of [`Engine::run_until`] passed.
    Completed,
    /// The shutdown future (a signal) resolved first; nothing was stopped yet.
    ShutdownRequested,
}

/// What [`Engine::run_with_signals`] did.
#[derive(Debug)]
pub struct SignalledRun {
    /// How the run loop ended.
    pub end: RunEnd,
    /// The graceful shutdown after a signal (`None` when the services ended by themselves).
    pub shutdown: Option<ShutdownReport>,
}

impl Engine {
    /// Runs the fleet until every service is STOPPED or FAILED ([`RunEnd::AllEnded`]; at once
    /// if there is none), or until `shutdown` resolves ([`RunEnd::ShutdownRequested`]; the
    /// services are left as they are: follow with [`shutdown`](Self::shutdown)).
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::prelude::*;
    /// use lifecycle_ecs::RunEnd;
    ///
    /// let mut engine = Engine::new();
    /// let service = engine.spawn(Lifecycle);
    /// engine.initialize_and_start(service);
    /// engine.stop_handle().stop(service); // from a hook, a task, another thread …
    /// let end = engine
    ///     .runtime()
    ///     .block_on(engine.run(std::future::pending()));
    /// assert_eq!(end, RunEnd::AllEnded);
    /// assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
    /// ```
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future between wake-ups leaves the engine as after a `tick`;
    /// dropped inside an operation it starts (a stop request carried out), that operation's guard
    /// ends the phase and the next operation finishes it (see
    /// [`initialize_async`](Self::initialize_async)). Stop requests not yet taken stay with the
    /// [`StopHandle`](crate::StopHandle).
    pub async fn run(&mut self, shutdown: impl Future<Output = ()>) -> RunEnd {
        self.drive(None, shutdown).await
    }

    /// [`run`](Self::run) for at most `duration` (then [`RunEnd::Completed`]); background runs
    /// due exactly at the end are left for the next call.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future between wake-ups leaves the engine as after a `tick`;
    /// dropped inside an operation it starts (a stop request carried out), that operation's guard
    /// ends the phase and the next operation finishes it (see
    /// [`initialize_async`](Self::initialize_async)). Stop requests not yet taken stay with the
    /// [`StopHandle`](crate::StopHandle).
    pub async fn run_until(
        &mut self,
        duration: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> RunEnd {
        self.drive(from_now(duration), shutdown).await
    }

    /// [`run`](Self::run) (or [`run_until`](Self::run_until) with a `limit`) until the services
    /// end or SIGINT/SIGTERM arrives; after a signal, stops everything gracefully within `budget`
    /// (a second signal abandons what is left, and the report lists it).
    ///
    /// The signals are caught only while this runs: before and after, they act as they do
    /// without it (by default, they end the process). No thread is started per call.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the future between wake-ups leaves the engine as after a `tick` and stops listening for signals;
    /// dropped inside an operation it starts (a stop request carried out), that operation's guard
    /// ends the phase and the next operation finishes it (see
    /// [`initialize_async`](Self::initialize_async)). Stop requests not yet taken stay with the
    /// [`StopHandle`](crate::StopHandle).
    pub async fn run_with_signals(
        &mut self,
        limit: Option<Duration>,
        budget: Duration,
    ) -> SignalledRun {
        // One listener for the run and its shutdown: a second signal is never missed between.
        let mut signals = TerminationSignals::listen();
        let end = self.drive(limit.and_then(from_now), signals.next()).await;
        let shutdown = match end {
            RunEnd::ShutdownRequested => Some(self.shutdown(budget, signals.next()).await),
            RunEnd::AllEnded | RunEnd::Completed => None,
        };
        SignalledRun { end, shutdown }
    }

    async fn drive(&mut self, end: Option<Instant>, shutdown: impl Future<Output = ()>) -> RunEnd {
        let mut shutdown = std::pin::pin!(shutdown);
        let wake = self.bridge.wake();
        let mut states_changed = true;
        loop {
            if self.process_stop_requests_async().await.is_some() {
                states_changed = true;
            }
            if states_changed {
                // Services change state only through operations, so this scan runs only after one.
                if self.every_service_ended() {
                    return RunEnd::AllEnded;
                }
                states_changed = false;
            }
            if end.is_some_and(|end| Instant::now() >= end) {
                return RunEnd::Completed;
            }
            let due = self.run_loop_tick().await;
            let next = match (due, end) {
                (Some(due), Some(end)) => Some(due.min(end)),
                (due, end) => due.or(end),
            };
            let sleep = sleep_until(next);
            tokio::select! {
                biased;
                () = &mut shutdown => return RunEnd::ShutdownRequested,
                () = wake.notified() => {}
                () = sleep => {}
            }
        }
    }

    /// Runs the plugins' `RunLoopTick` steps; the earliest wake-up they asked for.
    async fn run_loop_tick(&mut self) -> Option<Instant> {
        if !self.steps.has(PhaseStep::RunLoopTick) {
            return None;
        }
        let wake_at = std::sync::Mutex::new(None);
        self.steps
            .run(&mut self.world, StepContext::tick(&wake_at))
            .await;
        wake_at
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether every service is STOPPED or FAILED.
    fn every_service_ended(&mut self) -> bool {
        let mut states = self
            .world
            .query_filtered::<&LifecycleState, With<Lifecycle>>();
        states.iter(&self.world).all(|state| state.is_terminal())
    }
}
