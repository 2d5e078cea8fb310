//! A service as a person reads it: AIPerf's `str(service)` and `repr(service)`.

use core::fmt;

use crate::{LifecycleState, ServiceId};

/// AIPerf's `str(service)`: `<Kind> (id=<id>)`, the form its error messages name services in.
///
/// Built from the id alone (an id knows its kind), so it costs nothing until it is displayed.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{KindId, ServiceId, ServiceLabel};
/// let id = ServiceId::named(KindId::ROOT, 0, "records-manager");
/// assert_eq!(ServiceLabel(id).to_string(), "Lifecycle (id=records-manager)");
/// assert_eq!(id.label().to_string(), "Lifecycle (id=records-manager)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceLabel(pub ServiceId);

impl ServiceId {
    /// The service as AIPerf's messages show it: `<Kind> (id=<id>)`.
    pub const fn label(self) -> ServiceLabel {
        ServiceLabel(self)
    }
}

impl From<ServiceId> for ServiceLabel {
    fn from(id: ServiceId) -> Self {
        Self(id)
    }
}

impl fmt::Display for ServiceLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (id={})", self.0.kind(), self.0)
    }
}

impl fmt::Debug for ServiceLabel {
    /// The same text as `Display`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A service with its state, as `Engine::describe` returns it.
///
/// `Display` is AIPerf's `str(service)`, `<Kind> (id=<id>)`; `Debug` (and [`repr`](Self::repr))
/// is AIPerf's `repr(service)`, `<<Kind> <id> (state=<state>)>`, angle brackets included.
///
/// # Example
/// ```
/// use lifecycle_ecs_components::{KindId, LifecycleState, ServiceDescription, ServiceId};
/// let service = ServiceDescription {
///     id: ServiceId::named(KindId::ROOT, 0, "svc"),
///     state: LifecycleState::Initializing,
/// };
/// assert_eq!(service.to_string(), "Lifecycle (id=svc)");
/// assert_eq!(format!("{service:?}"), "<Lifecycle svc (state=initializing)>");
/// assert_eq!(service.repr().to_string(), "<Lifecycle svc (state=initializing)>");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceDescription {
    /// The service's id (its kind included).
    pub id: ServiceId,
    /// Its state when it was described.
    pub state: LifecycleState,
}

impl ServiceDescription {
    /// AIPerf's `str(service)`: `<Kind> (id=<id>)`.
    pub const fn label(&self) -> ServiceLabel {
        ServiceLabel(self.id)
    }

    /// AIPerf's `repr(service)`: `<<Kind> <id> (state=<state>)>`.
    pub const fn repr(&self) -> ServiceRepr {
        ServiceRepr(*self)
    }
}

impl fmt::Display for ServiceDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.label(), f)
    }
}

impl fmt::Debug for ServiceDescription {
    /// AIPerf's `repr`: `<<Kind> <id> (state=<state>)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.repr(), f)
    }
}

/// AIPerf's `repr(service)`, displayed: `<<Kind> <id> (state=<state>)>` (see
/// [`ServiceDescription::repr`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceRepr(pub ServiceDescription);

impl fmt::Display for ServiceRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ServiceDescription { id, state } = self.0;
        write!(f, "<{} {id} (state={state})>", id.kind())
    }
}

impl fmt::Debug for ServiceRepr {
    /// The same text as `Display`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
