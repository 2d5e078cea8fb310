//! Graceful shutdown: drive until a signal, then stop everything within a budget.

use std::future::Future;
use std::time::Duration;

use bevy_ecs::entity::Entity;
use bevy_ecs::query::With;
use lifecycle_ecs_components::{Lifecycle, LifecycleState};

use crate::engine::Engine;
use crate::report::OperationReport;
use crate::runtime::EngineRuntime;
use crate::selection::Selection;

/// The default time a graceful shutdown may take before what is left is abandoned.
pub const DEFAULT_SHUTDOWN_BUDGET: Duration = Duration::from_secs(10);

/// How a [`Engine::run_until`] drive ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// The duration passed.
    Completed,
    /// The shutdown future (a signal) resolved first.
    ShutdownRequested,
}

/// What a [`Engine::shutdown`] did.
#[derive(Debug)]
pub struct ShutdownReport {
    /// The stop operation's report, if it finished.
    pub stop: Option<OperationReport>,
    /// Whether the stop was abandoned (second signal or budget exhausted).
    pub aborted: bool,
    /// Services left neither STOPPED nor FAILED (empty unless aborted).
    pub unfinished: Vec<Entity>,
}

impl Engine {
    /// The runtime the engine runs async work on.
    pub fn runtime(&self) -> EngineRuntime {
        self.bridge.runtime().clone()
    }

    /// Drives background tasks for `duration`, or until `shutdown` resolves (e.g. a signal).
    pub async fn run_until(
        &mut self,
        duration: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> RunEnd {
        tokio::select! {
            _ = self.run_for_async(duration) => RunEnd::Completed,
            () = shutdown => RunEnd::ShutdownRequested,
        }
    }

    /// Stops every service gracefully, giving up when `budget` runs out or `abort` resolves (a
    /// second signal); what never finished is listed, never leaked silently.
    pub async fn shutdown(
        &mut self,
        budget: Duration,
        abort: impl Future<Output = ()>,
    ) -> ShutdownReport {
        let stop = tokio::select! {
            report = self.stop_async(Selection::All) => Some(report),
            () = tokio::time::sleep(budget) => None,
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
        }
    }
}

/// Resolves at the next SIGINT or SIGTERM (SIGINT only off Unix). Create it inside the runtime.
///
/// # Panics
/// Panics if the signal handlers cannot be installed (outside a tokio runtime with I/O enabled).
pub async fn termination_signal() {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler installs");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
