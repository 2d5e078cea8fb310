//! The lifecycle parent/children relationship (AIPerf's `attach_child_lifecycle`).

use bevy_ecs::component::Component;
use bevy_ecs::entity::Entity;

/// Points a child service at its lifecycle parent. Separate from bevy's `ChildOf`: it orders
/// lifecycles, not transforms or despawns.
///
/// Children initialize and start before their parent's own hooks and stop after them, in reverse
/// attach order. Attach through the engine (`Engine::attach_child`), which checks states, the
/// one-parent rule and cycles.
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs_components::{LifecycleChildren, LifecycleParent};
/// let mut world = World::new();
/// let parent = world.spawn_empty().id();
/// let a = world.spawn(LifecycleParent(parent)).id();
/// let b = world.spawn(LifecycleParent(parent)).id();
/// assert_eq!(world.get::<LifecycleChildren>(parent).unwrap().as_slice(), &[a, b]);
/// ```
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
#[relationship(relationship_target = LifecycleChildren)]
pub struct LifecycleParent(pub Entity);

/// A service's lifecycle children, in attach order (kept in sync by bevy's relationship hooks).
#[derive(Component, Debug, Default, PartialEq, Eq)]
#[relationship_target(relationship = LifecycleParent)]
pub struct LifecycleChildren(Vec<Entity>);

impl LifecycleChildren {
    /// The children in attach order.
    pub fn as_slice(&self) -> &[Entity] {
        &self.0
    }
}
