//! The lifecycle parent/children relationship (AIPerf's `attach_child_lifecycle`).

use bevy_ecs::component::Component;
use bevy_ecs::entity::Entity;
use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::world::DeferredWorld;

use crate::LifecycleFlags;

/// Points a child service at its lifecycle parent. Separate from bevy's `ChildOf`: it orders
/// lifecycles, not transforms or despawns.
///
/// Children initialize and start before their parent's own hooks and stop after them, in reverse
/// attach order. Attach through the engine (`Engine::attach_child`), which checks states, the
/// one-parent rule and cycles.
///
/// Despawning a parent does not despawn its children: they become **roots** of the lifecycle
/// tree (depth 0), each with its own subtree moving up with it, so operations on all services
/// and the run loop reach them as before. The same happens when the link is removed by hand.
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs_components::{LifecycleChildren, LifecycleFlags, LifecycleParent};
/// let mut world = World::new();
/// let parent = world.spawn_empty().id();
/// let a = world.spawn((LifecycleParent(parent), LifecycleFlags::at_depth(1))).id();
/// let b = world.spawn(LifecycleParent(parent)).id();
/// assert_eq!(world.get::<LifecycleChildren>(parent).unwrap().as_slice(), &[a, b]);
///
/// world.despawn(parent);
/// assert!(world.get::<LifecycleParent>(a).is_none());
/// assert_eq!(world.get::<LifecycleFlags>(a).unwrap().depth(), 0);
/// ```
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
#[relationship(relationship_target = LifecycleChildren)]
#[component(on_remove = become_root)]
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

/// A service that lost its parent (despawned, or the link removed) is a root from now on: its
/// depth becomes 0 and its descendants' depths follow. Runs for services being despawned too
/// (their children then become roots in turn), which costs a walk of their subtree.
fn become_root(mut world: DeferredWorld, context: HookContext) {
    set_subtree_depth(&mut world, context.entity, 0);
}

/// Sets `root`'s depth to `depth` and every descendant's to its parent's + 1.
fn set_subtree_depth(world: &mut DeferredWorld, root: Entity, depth: u8) {
    let Some(mut flags) = world.get_mut::<LifecycleFlags>(root) else {
        return;
    };
    if flags.depth() == depth {
        // Depths below a service always follow its own: the subtree is right already.
        return;
    }
    flags.set_depth(depth);
    let mut pending = Vec::new();
    push_children(world, root, depth, &mut pending);
    while let Some((entity, depth)) = pending.pop() {
        if let Some(mut flags) = world.get_mut::<LifecycleFlags>(entity) {
            flags.set_depth(depth);
        }
        push_children(world, entity, depth, &mut pending);
    }
}

/// Queues `parent`'s children at one level below `depth`.
fn push_children(
    world: &DeferredWorld,
    parent: Entity,
    depth: u8,
    pending: &mut Vec<(Entity, u8)>,
) {
    if let Some(children) = world.get::<LifecycleChildren>(parent) {
        let below = depth.saturating_add(1);
        pending.extend(children.as_slice().iter().map(|&child| (child, below)));
    }
}
