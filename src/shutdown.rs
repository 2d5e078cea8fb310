//! Graceful shutdown: drive until a signal, then stop everything within a budget.

use std::future::Future;
use std::time::Duration;

use bevy_ecs::entity::Entity;
use bevy_ecs::query::With;
use lifecycle_ecs_components::{Lifecycle, LifecycleState};

use crate::deadline::{from_now, sleep_until};
use crate::engine::Engine;
use crate::report::OperationReport;
use crate::runtime::EngineRuntime;
use crate::selection::Selection;
use crate::signals::TerminationSignals;

/// The default time a graceful shutdown may take before what is left is abandoned.
pub const DEFAULT_SHUTDOWN_BUDGET: Duration = Duration::from_secs(10);

/// What a [`Engine::shutdown`] did.
#[derive(Debug)]
pub struct ShutdownReport {
    /// The stop operation's report, if it finished.
    pub stop: Option<OperationReport>,
    /// Whether the stop was abandoned (second signal or budget exhausted).
    pub aborted: bool,
    /// Services left neither STOPPED nor FAILED (empty unless aborted). Those caught in STOPPING
    /// stay there until the next operation, which fails them with an exit error of type
    /// [`ABANDONED_ERROR_TYPE`](crate::ABANDONED_ERROR_TYPE) without running their stop hooks
    /// again; services the stop had not reached yet keep their state.
    pub unfinished: Vec<Entity>,
    /// How long the shutdown took (until every task ended, or until it was abandoned).
    pub elapsed: Duration,
}

impl Engine {
    /// The runtime the engine runs async work on.
    pub fn runtime(&self) -> EngineRuntime {
        self.bridge.runtime().clone()
    }

    /// Stops every service gracefully, giving up when `budget` runs out or `abort` resolves (a
    /// second signal); what never finished is listed, never leaked silently. Giving up drops the
    /// stop (and its hook futures) and leaves the engine consistent: see
    /// [`stop_async`](Self::stop_async) for what happens to the services it caught.
    ///
    /// # Cancel safety
    /// Dropping the future abandons the stop like a budget that ran out (see
    /// [`stop_async`](Self::stop_async)).
    pub async fn shutdown(
        &mut self,
        budget: Duration,
        abort: impl Future<Output = ()>,
    ) -> ShutdownReport {
        let started = tokio::time::Instant::now();
        let stop = tokio::select! {
            report = self.stop_async(Selection::All) => Some(report),
            () = sleep_until(from_now(budget)) => None,
            () = abort => None,
        };
        let aborted = stop.is_none();
        let mut unfinished = Vec::new();
        if aborted {
            let mut services = self
                .world
                .query_filtered::<(Entity, &LifecycleState), With<Lifecycle>>();
            unfinished = services
                .iter(&self.world)
                .filter(|(_, state)| !state.is_terminal())
                .map(|(entity, _)| entity)
                .collect();
            tracing::warn!(
                unfinished = unfinished.len(),
                "shutdown abandoned with services still running"
            );
        }
        ShutdownReport {
            stop,
            aborted,
            unfinished,
            elapsed: started.elapsed(),
        }
    }
}

/// Resolves at the next SIGINT or SIGTERM (SIGINT only off Unix) after the call.
///
/// While the returned future exists, those signals resolve it instead of ending the process;
/// once it is dropped (or resolved), they act as they did before (by default, they end the
/// process). No thread is started per call (see [`TerminationSignals`], which also sees a
/// second signal without a gap). The future works on any runtime.
pub fn termination_signal() -> impl Future<Output = ()> + Send + 'static {
    let mut signals = TerminationSignals::listen();
    async move { signals.next().await }
}
