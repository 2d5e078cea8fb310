//! `Engine::exit_error_groups`: every failed service's exit errors, grouped.

use lifecycle_ecs_components::ExitErrors;

use super::group::{ExitErrorGroup, group_exit_errors};
use crate::Engine;

impl Engine {
    /// The exit errors of every service in the world, grouped by their details
    /// ([`group_exit_errors`]), in the order each details is first met in the world (its
    /// storage order: services of one set of components in spawn order).
    ///
    /// # Example
    /// ```
    /// use lifecycle_ecs::prelude::*;
    /// let mut engine = Engine::new();
    /// engine
    ///     .add_entity_hook::<Lifecycle, (), _, _>(HookType::OnInit, "connect", |_, ()| Err("refused"))
    ///     .unwrap();
    /// engine.spawn_batch(Lifecycle, 4);
    /// engine.initialize(Selection::All);
    /// let groups = engine.exit_error_groups();
    /// assert_eq!(groups.len(), 1);
    /// assert_eq!(groups[0].services, 4);
    /// assert_eq!(groups[0].message, "Lifecycle.connect: refused");
    /// ```
    pub fn exit_error_groups(&mut self) -> Vec<ExitErrorGroup> {
        let mut query = self.world.query::<&ExitErrors>();
        group_exit_errors(query.iter(&self.world).flat_map(ExitErrors::as_slice))
    }
}
