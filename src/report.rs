//! What an operation did: moved, ignored, refused, failed.

use std::time::Duration;

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::{ExitErrorInfo, InvalidStateError, Operation, ServiceId};
use serde::Serialize;

/// A service that ended FAILED during an operation.
#[derive(Clone, Debug, Serialize)]
pub struct FailedService {
    /// The service.
    #[serde(skip)]
    pub entity: Entity,
    /// Its id.
    pub service_id: ServiceId,
    /// Its exit errors (one per failed phase).
    pub exit_errors: Vec<ExitErrorInfo>,
}

/// The outcome of one operation over a batch of services.
///
/// Nothing fails silently: every selected service is counted in exactly one of `moved` (reached
/// the operation's final state), `ignored`, `invalid`, `failed`, `cancelled` or `despawned`, and so
/// are the children the operation reached through the lifecycle tree.
///
/// # Example
/// ```
/// use lifecycle_ecs::prelude::*;
/// let mut engine = Engine::new();
/// let service = engine.spawn(Lifecycle);
/// let report = engine.start(service);
/// assert_eq!(report.moved, 0);
/// assert_eq!(report.invalid.len(), 1); // start from CREATED is refused
/// assert!(!report.is_clean());
/// ```
#[derive(Clone, Debug)]
pub struct OperationReport {
    /// The operation.
    pub operation: Operation,
    /// How many services reached the operation's final state.
    pub moved: usize,
    /// Services the operation ignored (their state made it a no-op).
    pub ignored: Vec<Entity>,
    /// Services whose state does not allow the operation.
    pub invalid: Vec<InvalidStateError>,
    /// Services that ended FAILED.
    pub failed: Vec<FailedService>,
    /// Services a stop request (through a [`StopHandle`](crate::StopHandle)) withdrew from this
    /// operation's phase: their hook futures were cancelled, the phase's final state skipped, and
    /// they took the stop path to STOPPED. Not failures (a withdrawn service that had failed a
    /// hook, or fails a stop hook, is in `failed` instead). Also the services an earlier
    /// operation, whose future was dropped, left in INITIALIZING or STARTING: this operation
    /// finished them first (see [`Engine::initialize_async`](crate::Engine::initialize_async)).
    pub cancelled: Vec<Entity>,
    /// Selected entities that are not services.
    pub not_services: Vec<Entity>,
    /// Services despawned while the operation ran (by a hook's commands), in despawn order. They
    /// are counted in no other list, nor in `moved`.
    pub despawned: Vec<Entity>,
    /// Wall time of the operation.
    pub elapsed: Duration,
}

impl OperationReport {
    /// An empty report for `operation`.
    pub fn new(operation: Operation) -> Self {
        Self {
            operation,
            moved: 0,
            ignored: Vec::new(),
            invalid: Vec::new(),
            failed: Vec::new(),
            cancelled: Vec::new(),
            not_services: Vec::new(),
            despawned: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// Whether nothing was refused and nothing failed.
    pub fn is_clean(&self) -> bool {
        self.invalid.is_empty() && self.failed.is_empty() && self.not_services.is_empty()
    }

    /// The failed services' entities.
    pub fn failed_entities(&self) -> impl Iterator<Item = Entity> + '_ {
        self.failed.iter().map(|failed| failed.entity)
    }

    /// The report as a `Result`: `Ok` when [clean](Self::is_clean) (cancelled services are not
    /// errors), for `?` and named operation scopes
    /// ([`Engine::try_operation`](crate::Engine::try_operation)).
    ///
    /// # Errors
    /// [`OperationFailedError`] holding the report when a service was refused or failed, or a
    /// selected entity is not a service.
    pub fn into_result(self) -> Result<Self, OperationFailedError> {
        if self.is_clean() {
            Ok(self)
        } else {
            Err(OperationFailedError(Box::new(self)))
        }
    }

    /// What went wrong first (for [`OperationFailedError`]'s message), and how many services
    /// went wrong in all.
    fn first_problem(&self) -> (String, usize) {
        let count = self.invalid.len() + self.failed.len() + self.not_services.len();
        let first = if let Some(refused) = self.invalid.first() {
            refused.to_string()
        } else if let Some(failed) = self.failed.first() {
            match failed.exit_errors.first() {
                Some(error) => format!(
                    "{} failed ({}): {}",
                    failed.service_id, error.operation, error.error_details.message
                ),
                None => format!("{} failed", failed.service_id),
            }
        } else if let Some(entity) = self.not_services.first() {
            format!("{entity} is not a service")
        } else {
            String::new()
        };
        (first, count)
    }
}

/// An operation refused or failed some services (or was given entities that are not services):
/// [`OperationReport::into_result`]'s error. It holds the report.
///
/// Its message is the first problem (an [`InvalidStateError`]'s message, or a failed service's
/// first exit error), followed by how many more services had one.
///
/// # Example
/// ```
/// use lifecycle_ecs::prelude::*;
/// let mut engine = Engine::new();
/// let service = engine.spawn(Lifecycle);
/// let error = engine.start(service).into_result().unwrap_err();
/// assert!(error.to_string().starts_with("Cannot start from state created for Lifecycle"));
/// assert_eq!(error.report().invalid.len(), 1);
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct OperationFailedError(pub Box<OperationReport>);

impl OperationFailedError {
    /// The report of the operation that went wrong.
    pub fn report(&self) -> &OperationReport {
        &self.0
    }
}

fn describe(report: &OperationReport) -> String {
    match report.first_problem() {
        (first, 0 | 1) => first,
        (first, count) => format!("{first} (and {} more services)", count - 1),
    }
}

/// The outcome of `initialize_and_start`: both operations' reports.
#[derive(Clone, Debug)]
pub struct InitializeAndStartReport {
    /// The initialize step.
    pub initialize: OperationReport,
    /// The start step (over the services initialize did not refuse or fail).
    pub start: OperationReport,
}

impl InitializeAndStartReport {
    /// Whether both steps were clean.
    pub fn is_clean(&self) -> bool {
        self.initialize.is_clean() && self.start.is_clean()
    }

    /// The report as a `Result`: `Ok` when both steps were clean (see
    /// [`OperationReport::into_result`]).
    ///
    /// # Errors
    /// [`OperationFailedError`] holding the first step that was not clean.
    pub fn into_result(self) -> Result<Self, OperationFailedError> {
        if !self.initialize.is_clean() {
            return Err(OperationFailedError(Box::new(self.initialize)));
        }
        if !self.start.is_clean() {
            return Err(OperationFailedError(Box::new(self.start)));
        }
        Ok(self)
    }
}
