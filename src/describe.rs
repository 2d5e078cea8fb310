//! `Engine::describe`: a service as AIPerf shows it.

use bevy_ecs::entity::Entity;
use lifecycle_ecs_components::ServiceDescription;

use crate::Engine;

impl Engine {
    /// A service as a person reads it: `Display` gives AIPerf's `str(service)`,
    /// `<Kind> (id=<id>)`, and `Debug` its `repr(service)`, `<<Kind> <id> (state=<state>)>`.
    /// `None` if `entity` is not a service.
    ///
    /// The state is the one at the call; the description does not follow later changes.
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::prelude::*;
    /// let mut engine = Engine::new();
    /// let service = engine.try_spawn_with(Lifecycle, (), Some("svc".into())).unwrap();
    /// let description = engine.describe(service).unwrap();
    /// assert_eq!(description.to_string(), "Lifecycle (id=svc)");
    /// assert_eq!(format!("{description:?}"), "<Lifecycle svc (state=created)>");
    /// ```
    pub fn describe(&self, entity: Entity) -> Option<ServiceDescription> {
        Some(ServiceDescription {
            id: *self.service_id(entity)?,
            state: self.state(entity)?,
        })
    }
}
