//! An operation asked of a service in a state that does not allow it.

use bevy_ecs::entity::Entity;

use crate::{LifecycleState, Operation, ServiceId, ServiceLabel};

/// An operation is not allowed from the service's state (AIPerf's `InvalidStateError`).
///
/// Its text is AIPerf's, `Cannot <operation> from state <state> for <service>`, the service shown
/// as AIPerf's `str(service)` ([`ServiceLabel`]: `<Kind> (id=<id>)`).
///
/// # Example
/// ```
/// use bevy_ecs::entity::Entity;
/// use lifecycle_ecs_components::{InvalidStateError, KindId, LifecycleState, Operation, ServiceId};
/// let err = InvalidStateError {
///     entity: Entity::PLACEHOLDER,
///     service_id: ServiceId::named(KindId::ROOT, 0, "svc"),
///     operation: Operation::Start,
///     state: LifecycleState::Created,
/// };
/// assert_eq!(err.to_string(), "Cannot start from state created for Lifecycle (id=svc)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Cannot {operation} from state {state} for {}", ServiceLabel(*service_id))]
pub struct InvalidStateError {
    /// The service.
    pub entity: Entity,
    /// Its id.
    pub service_id: ServiceId,
    /// What was asked.
    pub operation: Operation,
    /// The state it was in.
    pub state: LifecycleState,
}
