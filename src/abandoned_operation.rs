//! What an operation future dropped mid-phase leaves behind, and how the engine takes it up.
//!
//! Dropping `initialize_async`, `start_async`, `stop_async` (a caller's `timeout`, a `select!`,
//! a [`shutdown`](Engine::shutdown) whose budget ran out) cancels the operation at the `.await`
//! it was parked on: the hook futures it awaited are dropped, and no further hook runs. The
//! engine stays consistent:
//! - the phase's bookkeeping ends (the phase context, which hooks ran): every hook
//!   runs again in later phases;
//! - the services caught mid-phase stay in their transient state until the **next operation**
//!   (whatever its selection), which first finishes them and lists each once in its report:
//!   - a service caught in INITIALIZING or STARTING (or withdrawn from that phase by a stop
//!     request) is cancelled: it takes the stop path (ON_STOP hooks, children, background tasks)
//!     to STOPPED and is listed in [`OperationReport::cancelled`](crate::OperationReport) (in
//!     `failed` if a stop hook fails), as if a stop request had withdrawn it;
//!   - a service caught in STOPPING had its clean-up cut short: its remaining ON_STOP hooks are
//!     not run again (they may be what hung), but its children are stopped and its background
//!     tasks ended; it ends FAILED with an exit error of type [`ABANDONED_ERROR_TYPE`] and is
//!     listed in `failed`.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::{ErrorDetails, ExitErrorInfo, LifecycleState, Operation, ServiceId};

use crate::engine::Engine;

/// The exit-error type of a service whose stop was abandoned (its operation's future dropped
/// before the stop hooks finished).
pub const ABANDONED_ERROR_TYPE: &str = "OperationAbandoned";

/// Holds the engine while an operation runs; if the operation's future is dropped before
/// [`finish`](Self::finish), marks the engine so the next operation finishes the services left
/// mid-phase (see the [module docs](self)).
pub(crate) struct OperationGuard<'e> {
    engine: &'e mut Engine,
    operation: Operation,
    finished: bool,
}

impl<'e> OperationGuard<'e> {
    /// Guards `operation`, about to run on `engine`.
    pub(crate) fn new(engine: &'e mut Engine, operation: Operation) -> Self {
        Self {
            engine,
            operation,
            finished: false,
        }
    }

    /// The operation ran to its end.
    pub(crate) fn finish(mut self) {
        self.finished = true;
    }
}

impl Deref for OperationGuard<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.engine
    }
}

impl DerefMut for OperationGuard<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        self.engine
    }
}

impl Drop for OperationGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.engine.abandon_operation(self.operation);
        }
    }
}

/// The services a dropped operation left mid-phase at one tree depth.
#[derive(Default)]
pub(crate) struct StrandedLevel {
    /// Caught in INITIALIZING: cancelled.
    pub(crate) initializing: Vec<Entity>,
    /// Caught in STARTING: cancelled.
    pub(crate) starting: Vec<Entity>,
    /// Caught in STOPPING: their stop was cut short.
    pub(crate) stopping: Vec<Entity>,
}

impl Engine {
    /// Called when an operation's future is dropped before it ended.
    fn abandon_operation(&mut self, operation: Operation) {
        // A withdrawal whose stop path had not begun is undone: the service counts as caught
        // mid-phase, like the others.
        let transient = operation.transient_state();
        for (entity, _) in std::mem::take(&mut self.withdrawn) {
            let withdrawn = self.state(entity) == Some(LifecycleState::Stopping)
                && self
                    .flags(entity)
                    .is_some_and(|flags| !flags.stop_requested());
            if withdrawn {
                self.transitions
                    .set_state(&mut self.world, entity, transient);
            }
        }
        self.abandoned = true;
        drop(crate::operation_despawns::take(&mut self.world));
        self.after_operation(operation);
        tracing::warn!(
            operation = operation.verb(),
            "an operation was dropped mid-phase; the next operation finishes the services it left"
        );
    }

    /// The services a dropped operation left mid-phase, deepest level first (children are
    /// finished before their parents, as a phase does); `None` if no operation was dropped.
    /// Clears the mark: the caller finishes them.
    pub(crate) fn take_stranded(&mut self) -> Option<Vec<(u8, StrandedLevel)>> {
        if !std::mem::take(&mut self.abandoned) {
            return None;
        }
        let mut levels: BTreeMap<std::cmp::Reverse<u8>, StrandedLevel> = BTreeMap::new();
        for state in [
            LifecycleState::Initializing,
            LifecycleState::Starting,
            LifecycleState::Stopping,
        ] {
            for entity in self.transitions.collect_in_state(&mut self.world, state) {
                let depth = self.flags(entity).map_or(0, |flags| flags.depth());
                let level = levels.entry(std::cmp::Reverse(depth)).or_default();
                match state {
                    LifecycleState::Initializing => level.initializing.push(entity),
                    LifecycleState::Starting => level.starting.push(entity),
                    _ => level.stopping.push(entity),
                }
            }
        }
        Some(
            levels
                .into_iter()
                .map(|(std::cmp::Reverse(depth), level)| (depth, level))
                .collect(),
        )
    }

    /// The exit error of a service whose stop was cut short.
    pub(crate) fn abandoned_stop_error(&self, entity: Entity) -> ExitErrorInfo {
        ExitErrorInfo {
            error_details: ErrorDetails {
                code: None,
                error_type: Some(ABANDONED_ERROR_TYPE.to_owned()),
                message: "the stop was abandoned before its hooks finished (the operation's \
                          future was dropped)"
                    .to_owned(),
            },
            operation: Operation::Stop.title().to_owned(),
            service_id: self.world.get::<ServiceId>(entity).map(ToString::to_string),
        }
    }
}
