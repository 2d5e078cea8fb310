//! The lifecycle parent/children relationship (AIPerf's `attach_child_lifecycle`).
//!
//! Hand-rolled rather than a bevy relationship: a child carries a [`LifecycleParent`] link, and
//! every parent's children list lives in one [`LifecycleTree`] resource (indexed by entity), so a
//! service that becomes a parent moves to no other archetype and a batch of families is linked
//! in one pass. A list keeps one child inline (no allocation for the common single child).

use core::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use bevy_ecs::component::Component;
use bevy_ecs::entity::Entity;
use bevy_ecs::lifecycle::HookContext;
use bevy_ecs::resource::Resource;
use bevy_ecs::world::{DeferredWorld, World, WorldId};

use crate::LifecycleFlags;

/// Points a child service at its lifecycle parent. Separate from bevy's `ChildOf`: it orders
/// lifecycles, not transforms or despawns.
///
/// Children initialize and start before their parent's own hooks and stop after them, in reverse
/// attach order. Attach through the engine (`Engine::attach_child`), which checks states, the
/// one-parent rule and cycles. Inserting the link by hand keeps the parent's list in the
/// [`LifecycleTree`] in sync too; a link to itself, or to an entity that is not a service (has no
/// [`LifecycleFlags`]), is removed again.
///
/// Despawning a parent (or removing its [`LifecycleFlags`]) does not despawn its children: they
/// become **roots** of the lifecycle tree (depth 0), each with its own subtree moving up with it,
/// so operations on all services and the run loop reach them as before. The same happens when
/// the link is removed by hand.
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs_components::{LifecycleFlags, LifecycleParent, LifecycleTree};
/// let mut world = World::new();
/// world.init_resource::<LifecycleTree>();
/// let parent = world.spawn(LifecycleFlags::default()).id();
/// let a = world.spawn((LifecycleParent(parent), LifecycleFlags::at_depth(1))).id();
/// let b = world.spawn((LifecycleParent(parent), LifecycleFlags::at_depth(1))).id();
/// assert_eq!(world.resource::<LifecycleTree>().children(parent), &[a, b]);
///
/// world.entity_mut(b).remove::<LifecycleParent>();
/// assert_eq!(world.resource::<LifecycleTree>().children(parent), &[a]);
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

/// Every lifecycle parent's children, in attach order (kept in sync by [`LifecycleParent`]'s
/// hooks, and by [`LifecycleFlags`]' removal hook, which orphans a departing parent's children).
///
/// A resource rather than a component on the parent: becoming a parent moves a service to no
/// other archetype, and a batch of families is linked in one pass. Per parent it costs one slot
/// of an index by entity (4 bytes, up to the highest parent's index) and one 24-byte entry.
///
/// # Example
/// ```
/// use bevy_ecs::prelude::*;
/// use lifecycle_ecs_components::{LifecycleFlags, LifecycleParent, LifecycleTree};
/// let mut world = World::new();
/// world.init_resource::<LifecycleTree>();
/// let parent = world.spawn(LifecycleFlags::default()).id();
/// let child = world.spawn((LifecycleParent(parent), LifecycleFlags::at_depth(1))).id();
/// let tree = world.resource::<LifecycleTree>();
/// assert_eq!(tree.children(parent), &[child]);
/// assert_eq!(tree.parents().count(), 1);
/// assert!(tree.children(child).is_empty());
/// ```
#[derive(Resource, Debug, Default)]
pub struct LifecycleTree {
    /// By entity index: the parent's position in `lists`, plus one (0: no list).
    slots: Vec<u32>,
    /// The parents and their lists (swap-removed when a parent goes).
    lists: Vec<(Entity, LifecycleChildren)>,
}

impl LifecycleTree {
    /// `parent`'s children in attach order (empty if it has none).
    pub fn children(&self, parent: Entity) -> &[Entity] {
        self.position(parent)
            .map_or(&[], |at| self.lists[at].1.as_slice())
    }

    /// Every parent with its children, in the order the parents got their first child (a parent
    /// that went is replaced by the last one).
    pub fn parents(&self) -> impl Iterator<Item = (Entity, &[Entity])> {
        self.lists
            .iter()
            .map(|(parent, children)| (*parent, children.as_slice()))
    }

    /// How many services have (or had, with all children gone since) a children list.
    pub fn parent_count(&self) -> usize {
        self.lists.len()
    }

    fn position(&self, parent: Entity) -> Option<usize> {
        let slot = *self.slots.get(parent.index_u32() as usize)?;
        let at = (slot as usize).checked_sub(1)?;
        (self.lists.get(at)?.0 == parent).then_some(at)
    }

    /// `parent`'s list, made empty if it has none.
    fn list_mut(&mut self, parent: Entity) -> &mut LifecycleChildren {
        let at = match self.position(parent) {
            Some(at) => at,
            None => {
                let index = parent.index_u32() as usize;
                if self.slots.len() <= index {
                    self.slots.resize(index + 1, 0);
                }
                self.lists.push((parent, LifecycleChildren::default()));
                // At most one list per entity index, so the count fits in `u32`.
                self.slots[index] = u32::try_from(self.lists.len()).unwrap_or(u32::MAX);
                self.lists.len() - 1
            }
        };
        &mut self.lists[at].1
    }

    /// Takes `parent`'s list out of the tree.
    fn take(&mut self, parent: Entity) -> Option<LifecycleChildren> {
        let at = self.position(parent)?;
        self.slots[parent.index_u32() as usize] = 0;
        let (_, children) = self.lists.swap_remove(at);
        if let Some(&(moved, _)) = self.lists.get(at) {
            self.slots[moved.index_u32() as usize] = u32::try_from(at + 1).unwrap_or(u32::MAX);
        }
        Some(children)
    }

    /// Makes room for lists of `parents` (those without one yet).
    fn reserve(&mut self, parents: &[Entity]) {
        if let Some(highest) = parents.iter().map(|parent| parent.index_u32()).max() {
            let slots = highest as usize + 1;
            if self.slots.len() < slots {
                self.slots.resize(slots, 0);
            }
        }
        self.lists.reserve(parents.len());
    }

    /// The bytes the tree holds beyond its own struct (index and lists, not the boxed lists).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<u32>()
            + self.lists.capacity() * size_of::<(Entity, LifecycleChildren)>()
    }
}

/// One parent's children, in attach order: none, one inline, or more in a boxed vector (16 bytes
/// in all).
#[derive(Debug, Default, PartialEq, Eq)]
struct LifecycleChildren(ChildList);

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
    /// The children in attach order.
    pub fn as_slice(&self) -> &[Entity] {
        match &self.0 {
            ChildList::None => &[],
            ChildList::One(child) => core::slice::from_ref(child),
            ChildList::Many(children) => children,
        }
    }

    /// A list of `children` (exactly their number of slots).
    fn from_slice(children: &[Entity]) -> Self {
        Self(match children {
            [] => ChildList::None,
            [only] => ChildList::One(*only),
            many => ChildList::Many(Box::new(many.to_vec())),
        })
    }

    /// Appends `children`, in order.
    fn extend_from_slice(&mut self, children: &[Entity]) {
        match (&mut self.0, children) {
            (_, []) => {}
            (ChildList::None, _) => *self = Self::from_slice(children),
            (ChildList::Many(list), _) => list.extend_from_slice(children),
            (ChildList::One(first), _) => {
                let mut list = Vec::with_capacity(1 + children.len());
                list.push(*first);
                list.extend_from_slice(children);
                self.0 = ChildList::Many(Box::new(list));
            }
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

std::thread_local! {
    /// The world whose new links [`spawn_linked_children`] is filling in itself (so the per-child
    /// link hook stands aside), if any, on this thread.
    static BATCH_LINKING: Cell<Option<WorldId>> = const { Cell::new(None) };
}

/// Spawns children of `parents` through `spawn` and links them in one pass: `spawn` writes the
/// entities it spawned into the vector it is given, `per_parent` for each parent in turn, each
/// carrying a [`LifecycleParent`] naming its parent; then every parent's list in the
/// [`LifecycleTree`] gets its children appended in order.
///
/// Meant for the engine's batch spawns, which have checked that every parent is a live service
/// and the tree depths: the per-child link hook does not run for links inserted by `spawn` in
/// `world` (on this thread), which is what makes a batch attach cost a few nanoseconds per child.
/// Links inserted into other worlds meanwhile are kept in sync as usual.
///
/// # Panics
/// Resumes a panic of `spawn`, after linking the children it had spawned (so the tree stays
/// consistent). Panics if the vector does not hold `parents.len() * per_parent` entities once
/// `spawn` returned normally.
pub fn spawn_linked_children(
    world: &mut World,
    parents: &[Entity],
    per_parent: usize,
    spawn: impl FnOnce(&mut World, &mut Vec<Entity>),
) -> Vec<Entity> {
    let mut children = Vec::new();
    let previous = BATCH_LINKING.replace(Some(world.id()));
    let spawned = catch_unwind(AssertUnwindSafe(|| spawn(world, &mut children)));
    BATCH_LINKING.set(previous);
    let mut tree = world.remove_resource::<LifecycleTree>().unwrap_or_default();
    if let Err(payload) = spawned {
        // Link what was spawned, one by one: the vector may hold ids allocated but not spawned.
        for &child in &children {
            if let Some(&LifecycleParent(parent)) = world.get::<LifecycleParent>(child) {
                tree.list_mut(parent).push(child);
            }
        }
        world.insert_resource(tree);
        resume_unwind(payload);
    }
    assert_eq!(
        children.len(),
        parents.len().saturating_mul(per_parent),
        "spawn_linked_children: `spawn` must spawn `per_parent` children for each parent"
    );
    if per_parent > 0 {
        tree.reserve(parents);
        for (&parent, family) in parents.iter().zip(children.chunks_exact(per_parent)) {
            tree.list_mut(parent).extend_from_slice(family);
        }
    }
    world.insert_resource(tree);
    children
}

/// A new link: the child joins its parent's list. A link to the child itself or to an entity
/// that is not a service is removed.
fn link_to_parent(mut world: DeferredWorld, context: HookContext) {
    if BATCH_LINKING.get() == Some(world.id()) {
        return;
    }
    let child = context.entity;
    let Some(&LifecycleParent(parent)) = world.get::<LifecycleParent>(child) else {
        return;
    };
    if parent == child || world.get::<LifecycleFlags>(parent).is_none() {
        world.commands().entity(child).remove::<LifecycleParent>();
        return;
    }
    if let Some(mut tree) = world.get_resource_mut::<LifecycleTree>() {
        tree.list_mut(parent).push(child);
        return;
    }
    world.commands().queue(move |world: &mut World| {
        // Only if the link still stands once the command runs.
        if world.get::<LifecycleParent>(child) == Some(&LifecycleParent(parent)) {
            world
                .get_resource_or_init::<LifecycleTree>()
                .list_mut(parent)
                .push(child);
        }
    });
}

/// A link that goes (removed, replaced or despawned): the child leaves its parent's list.
fn unlink_from_parent(mut world: DeferredWorld, context: HookContext) {
    let child = context.entity;
    let Some(&LifecycleParent(parent)) = world.get::<LifecycleParent>(child) else {
        return;
    };
    if let Some(mut tree) = world.get_resource_mut::<LifecycleTree>()
        && tree.position(parent).is_some()
    {
        tree.list_mut(parent).remove(child);
    }
}

/// A service that goes (despawned, or its [`LifecycleFlags`] removed) takes its list with it:
/// every child still linked to it loses its link, and so becomes a root.
pub(crate) fn orphan_children(mut world: DeferredWorld, context: HookContext) {
    let parent = context.entity;
    let Some(children) = world
        .get_resource_mut::<LifecycleTree>()
        .and_then(|mut tree| tree.take(parent))
    else {
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
    if let Some(tree) = world.get_resource::<LifecycleTree>() {
        let below = depth.saturating_add(1);
        pending.extend(tree.children(parent).iter().map(|&child| (child, below)));
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
        let mut list = LifecycleChildren::default();
        list.push(a);
        assert_eq!(list.as_slice(), &[a]);
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

    #[test]
    fn a_parent_that_goes_leaves_the_other_lists_where_they_were() {
        let mut world = World::new();
        let [p, q, r, c, d] = [(); 5].map(|()| world.spawn_empty().id());
        let mut tree = LifecycleTree::default();
        tree.list_mut(p).push(c);
        tree.list_mut(q).push(d);
        tree.list_mut(r).extend_from_slice(&[c, d]);
        assert_eq!(
            tree.take(p).map(|list| list.as_slice().to_vec()),
            Some(vec![c])
        );
        assert!(tree.children(p).is_empty());
        assert_eq!(tree.children(q), &[d]);
        assert_eq!(tree.children(r), &[c, d]);
        assert_eq!(tree.parent_count(), 2);
        // A later entity on the same index (a new generation) has no list.
        let q2 = Entity::from_index_and_generation(q.index(), q.generation().after_versions(1));
        assert_ne!(q2, q);
        assert!(tree.children(q2).is_empty());
    }
}
