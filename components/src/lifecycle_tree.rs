//! The lifecycle parent/children relationship (AIPerf's `attach_child_lifecycle`).
//!
//! Hand-rolled rather than a bevy relationship: a child's link updates its parent's list in place
//! (no command per child), and a parent's list keeps one child inline (no allocation for the
//! common single child).

use bevy_ecs::component::Component;
use bevy_ecs::entity::Entity;
use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::world::{DeferredWorld, World};

use crate::LifecycleFlags;

/// Points a child service at its lifecycle parent. Separate from bevy's `ChildOf`: it orders
/// lifecycles, not transforms or despawns.
///
/// Children initialize and start before their parent's own hooks and stop after them, in reverse
/// attach order. Attach through the engine (`Engine::attach_child`), which checks states, the
/// one-parent rule and cycles. Inserting the link by hand keeps the parent's
/// [`LifecycleChildren`] in sync too; a link to itself or to an entity that does not exist is
/// removed again.
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
/// world.entity_mut(b).remove::<LifecycleParent>();
/// assert_eq!(world.get::<LifecycleChildren>(parent).unwrap().as_slice(), &[a]);
///
/// world.despawn(parent);
/// assert!(world.get::<LifecycleParent>(a).is_none());
/// assert_eq!(world.get::<LifecycleFlags>(a).unwrap().depth(), 0);
/// ```
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
#[component(
    immutable,
    on_insert = link_to_parent,
    on_discard = unlink_from_parent,
    on_remove = become_root
)]
pub struct LifecycleParent(pub Entity);

/// A service's lifecycle children, in attach order (kept in sync by [`LifecycleParent`]'s hooks).
///
/// Stored in a sparse set, so a service that becomes a parent keeps its table row. Removing it
/// (or despawning the parent) removes every child's [`LifecycleParent`], so they become roots.
#[derive(Component, Debug, Default, PartialEq, Eq)]
#[component(storage = "SparseSet", on_discard = orphan_children)]
pub struct LifecycleChildren(ChildList);

/// The children: none, one inline, or more in a boxed vector (16 bytes in all, so a parent's list
/// costs little more than a link).
#[derive(Debug, Default, PartialEq, Eq)]
enum ChildList {
    #[default]
    None,
    One(Entity),
    #[expect(
        clippy::box_collection,
        reason = "the box keeps the list at 16 bytes: a bare vector would make it 24 for every parent"
    )]
    Many(Box<Vec<Entity>>),
}

impl LifecycleChildren {
    /// An empty list with room for `capacity` children (one is always kept inline, so up to one
    /// allocates nothing).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(if capacity <= 1 {
            ChildList::None
        } else {
            ChildList::Many(Box::new(Vec::with_capacity(capacity)))
        })
    }

    /// The children in attach order.
    pub fn as_slice(&self) -> &[Entity] {
        match &self.0 {
            ChildList::None => &[],
            ChildList::One(child) => core::slice::from_ref(child),
            ChildList::Many(children) => children,
        }
    }

    /// Makes room for `additional` more children.
    pub fn reserve(&mut self, additional: usize) {
        match &mut self.0 {
            ChildList::None if additional > 1 => {
                self.0 = ChildList::Many(Box::new(Vec::with_capacity(additional)));
            }
            ChildList::None => {}
            ChildList::One(child) => {
                if additional > 0 {
                    let mut children = Vec::with_capacity(1 + additional);
                    children.push(*child);
                    self.0 = ChildList::Many(Box::new(children));
                }
            }
            ChildList::Many(children) => children.reserve(additional),
        }
    }

    /// Appends `child`.
    fn push(&mut self, child: Entity) {
        match &mut self.0 {
            ChildList::None => self.0 = ChildList::One(child),
            ChildList::One(first) => self.0 = ChildList::Many(Box::new(vec![*first, child])),
            ChildList::Many(children) => children.push(child),
        }
    }

    /// Removes `child`, keeping the others' order.
    fn remove(&mut self, child: Entity) {
        match &mut self.0 {
            ChildList::None => {}
            ChildList::One(only) => {
                if *only == child {
                    self.0 = ChildList::None;
                }
            }
            ChildList::Many(children) => {
                if let Some(at) = children.iter().position(|&entity| entity == child) {
                    children.remove(at);
                }
            }
        }
    }
}

/// A new link: the child joins its parent's list (in place when the parent has one; through a
/// command otherwise). A link to the child itself or to a missing entity is removed.
fn link_to_parent(mut world: DeferredWorld, context: HookContext) {
    let child = context.entity;
    let Some(&LifecycleParent(parent)) = world.get::<LifecycleParent>(child) else {
        return;
    };
    if parent == child || world.get_entity(parent).is_err() {
        world.commands().entity(child).remove::<LifecycleParent>();
        return;
    }
    if let Some(mut children) = world.get_mut::<LifecycleChildren>(parent) {
        children.push(child);
        return;
    }
    world.commands().queue(move |world: &mut World| {
        // Only if the link still stands once the command runs.
        if world.get::<LifecycleParent>(child) != Some(&LifecycleParent(parent)) {
            return;
        }
        let Ok(mut parent) = world.get_entity_mut(parent) else {
            return;
        };
        match parent.get_mut::<LifecycleChildren>() {
            Some(mut children) => children.push(child),
            None => {
                let mut children = LifecycleChildren::default();
                children.push(child);
                parent.insert(children);
            }
        }
    });
}

/// A link that goes (removed, replaced or despawned): the child leaves its parent's list.
fn unlink_from_parent(mut world: DeferredWorld, context: HookContext) {
    let child = context.entity;
    let Some(&LifecycleParent(parent)) = world.get::<LifecycleParent>(child) else {
        return;
    };
    if let Some(mut children) = world.get_mut::<LifecycleChildren>(parent) {
        children.remove(child);
    }
}

/// A parent's list that goes (removed, replaced, or the parent despawned): every child still
/// linked to it loses its link, and so becomes a root.
fn orphan_children(mut world: DeferredWorld, context: HookContext) {
    let parent = context.entity;
    let Some(children) = world.get::<LifecycleChildren>(parent) else {
        return;
    };
    let children = children.as_slice().to_vec();
    world.commands().queue(move |world: &mut World| {
        for child in children {
            if world.get::<LifecycleParent>(child) == Some(&LifecycleParent(parent))
                && let Ok(mut child) = world.get_entity_mut(child)
            {
                child.remove::<LifecycleParent>();
            }
        }
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_sixteen_bytes() {
        assert_eq!(size_of::<LifecycleChildren>(), 16);
    }

    #[test]
    fn lists_keep_attach_order_through_pushes_and_removals() {
        let mut world = World::new();
        let [a, b, c] = [(); 3].map(|()| world.spawn_empty().id());
        let mut list = LifecycleChildren::with_capacity(1);
        list.push(a);
        assert_eq!(list.as_slice(), &[a]);
        list.reserve(2);
        list.push(b);
        list.push(c);
        assert_eq!(list.as_slice(), &[a, b, c]);
        list.remove(b);
        assert_eq!(list.as_slice(), &[a, c]);
        let mut single = LifecycleChildren::default();
        single.push(c);
        single.remove(c);
        assert!(single.as_slice().is_empty());
    }
}
