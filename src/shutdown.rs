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
            elapsed: started.elapsed(),
        }
    }
}

/// Resolves at the next SIGINT or SIGTERM (SIGINT only off Unix).
///
/// The signals are watched on a thread of their own (with its own small runtime), so the engine's
/// runtime needs no I/O driver; the future works on any runtime. Once called, SIGINT no longer
/// ends the process by default: the caller decides what a signal does.
pub fn termination_signal() -> impl Future<Output = ()> + Send + 'static {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let watcher = std::thread::Builder::new()
        .name("lifecycle-signals".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(wait_for_signal());
            let _ = sender.send(());
        });
    if let Err(error) = watcher {
        tracing::warn!("cannot watch for signals: {error}");
    }
    async move {
        // A dropped sender (no watcher) means no signal will ever come.
        if receiver.await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
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
