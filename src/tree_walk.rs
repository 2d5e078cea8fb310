//! Bounded walks over the lifecycle tree, safe on trees changed past the engine.
//!
//! `LifecycleParent` is a public component, so `world_mut()` can write a tree the engine never
//! checked: a cycle, or a chain deeper than the depth limit. Every walk here ends: up the parents
//! after at most [`MAX_TREE_DEPTH`] steps, down the children once a level passes the limit or
//! more entries were visited than the world has entities. A revisited entity is reported as a
//! cycle.

use bevy_ecs::entity::Entity;
use bevy_ecs::world::World;
use lifecycle_ecs_components::{LifecycleParent, LifecycleTree};

use crate::attach_child_error::MAX_TREE_DEPTH;

/// What a walk found instead of a well-formed tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TreeWalkError {
    /// The walk reached the entity it must not reach (attaching would close a cycle).
    Reached,
    /// The tree already has a cycle through this entity.
    Cycle(Entity),
    /// The tree goes deeper than [`MAX_TREE_DEPTH`].
    TooDeep,
}

/// Checks that `forbidden` is neither `start` nor one of its ancestors, walking up the
/// `LifecycleParent` links from `start`.
///
/// Walks at most [`MAX_TREE_DEPTH`] services (a child of `start` must fit under the limit), with
/// no allocation.
///
/// # Errors
/// [`TreeWalkError::Reached`] if `forbidden` is on the path, [`TreeWalkError::Cycle`] if the
/// path loops, [`TreeWalkError::TooDeep`] if it has more than [`MAX_TREE_DEPTH`] services.
pub(crate) fn check_ancestors(
    world: &World,
    start: Entity,
    forbidden: Entity,
) -> Result<(), TreeWalkError> {
    let mut path = [Entity::PLACEHOLDER; MAX_TREE_DEPTH as usize];
    let mut len = 0;
    let mut current = start;
    loop {
        if current == forbidden {
            return Err(TreeWalkError::Reached);
        }
        if path[..len].contains(&current) {
            return Err(TreeWalkError::Cycle(current));
        }
        let Some(slot) = path.get_mut(len) else {
            return Err(TreeWalkError::TooDeep);
        };
        *slot = current;
        len += 1;
        match world.get::<LifecycleParent>(current) {
            Some(&LifecycleParent(parent)) => current = parent,
            None => return Ok(()),
        }
    }
}

/// `root` and its descendants, breadth-first (each level in attach order), each with the depth it
/// has when `root` is at `depth`.
///
/// # Errors
/// [`TreeWalkError::TooDeep`] if a descendant would be deeper than [`MAX_TREE_DEPTH`];
/// [`TreeWalkError::Reached`] if `forbidden` is among the descendants; [`TreeWalkError::Cycle`]
/// if `root` is its own descendant or the walk visits more entries than the world has entities.
pub(crate) fn subtree_at_depth(
    world: &World,
    root: Entity,
    depth: u8,
    forbidden: Entity,
) -> Result<Vec<(Entity, u8)>, TreeWalkError> {
    let limit = world.entities().len() as usize;
    let mut subtree = vec![(root, depth)];
    let mut index = 0;
    while let Some(&(entity, level)) = subtree.get(index) {
        index += 1;
        let children = world
            .get_resource::<LifecycleTree>()
            .map_or(&[][..], |tree| tree.children(entity));
        if children.is_empty() {
            continue;
        }
        let next = level.checked_add(1).ok_or(TreeWalkError::TooDeep)?;
        for &child in children {
            if child == forbidden {
                return Err(TreeWalkError::Reached);
            }
            if child == root || subtree.len() >= limit {
                return Err(TreeWalkError::Cycle(child));
            }
            subtree.push((child, next));
        }
    }
    Ok(subtree)
}
