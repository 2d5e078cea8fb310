//! Carrying out stop requests (part of the control feature): the engine's [`StopHandle`] and
//! [`PendingStops`], and the stop that carries them out.

use crate::engine::Engine;
use crate::report::OperationReport;
use crate::selection::Selection;
use crate::stop_handle::{PendingStops, StopHandle};

impl Engine {
    /// The handle that asks this engine to stop services from anywhere (also the `StopHandle`
    /// resource hooks can read).
    pub fn stop_handle(&self) -> StopHandle {
        self.bridge.stop_handle().clone()
    }

    /// Stop requests not carried out yet (taking the ones that just arrived).
    pub fn pending_stops(&mut self) -> &PendingStops {
        self.collect_stop_requests();
        &self.pending_stops
    }

    /// Carries out the pending stop requests: a stop of every service if one asked for all,
    /// else of the services asked for. `None` if nothing was requested.
    ///
    /// # Panics
    /// Panics if a stop hook's futures must be awaited while the calling thread is in a current-thread tokio
    /// runtime's context (use [`process_stop_requests_async`](Self::process_stop_requests_async) there); see [`EngineRuntime::block_on`](crate::EngineRuntime::block_on).
    pub fn process_stop_requests(&mut self) -> Option<OperationReport> {
        let runtime = self.bridge.runtime().clone();
        runtime.block_on_for(
            "`Engine::process_stop_requests_async().await`",
            self.process_stop_requests_async(),
        )
    }

    /// [`process_stop_requests`](Self::process_stop_requests) for async code.
    ///
    /// # Cancel safety
    /// As [`stop_async`](Self::stop_async). The requests stay pending until the stop carries
    /// them out, so a dropped call loses none: the next call stops what is left.
    pub async fn process_stop_requests_async(&mut self) -> Option<OperationReport> {
        self.collect_stop_requests();
        if self.pending_stops.is_empty() {
            return None;
        }
        // The stop forgets the requests it carries out (see `run_operation_async`).
        let selection = if self.pending_stops.all() {
            Selection::All
        } else {
            Selection::Many(self.pending_stops.services().to_vec())
        };
        Some(self.stop_async(selection).await)
    }
}
