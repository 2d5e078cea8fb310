//! What a service costs in memory: the engine's own per-service figure, added up from the sizes of
//! what it stores for each service.
//!
//! For every service the engine spawns, bevy stores each component's value with its two change
//! ticks (and its source location with bevy's `track_location` feature), plus three per-entity
//! records: its entity meta (generation, location, spawn tick), its archetype row and its table
//! row. The engine adds its own per-service entries: the entity in the list a batch spawn returns
//! and, for a child, its slot in its parent's children list, its share of that list (a sparse-set
//! entry on the parent, which also moves the parent to another archetype), and the lists a tree
//! walk builds while an operation moves the children. The sizes come from the types themselves
//! (`size_of`, bevy's component layouts), so the figure follows the components a kind requires
//! and the extra bundle.
//!
//! It is an estimate, made to err on the high side: within 10 % of the peak resident memory of a
//! whole lifecycle, up to 20 % above it (measured for batches of 10⁵ to 10⁶ services). It leaves
//! out the allocator's own overhead and everything that does not grow with the number of
//! services (schedules, hooks, the runtime). Use it to check that a fleet fits before spawning it, as
//! `lifecycle-ecs fleet` does.
//!
//! # Example
//! ```
//! use bevy_ecs::component::Component;
//! use lifecycle_ecs::footprint;
//! use lifecycle_ecs::prelude::*;
//!
//! /// Per-service data a hook uses.
//! #[derive(Component)]
//! struct Counters([u64; 4]);
//!
//! // The root kind: four components (the marker, state, flags and id) and bevy's records.
//! let root = footprint::bytes_per_service::<Lifecycle, ()>();
//! assert!(root > size_of::<LifecycleState>() + size_of::<LifecycleFlags>() + size_of::<ServiceId>());
//! // Per-service data costs what it stores and its records; a child costs its link too.
//! assert_eq!(
//!     footprint::bytes_per_service::<Lifecycle, Counters>(),
//!     root + size_of::<Counters>() + footprint::COMPONENT_RECORD_BYTES
//! );
//! assert!(footprint::bytes_per_child::<Lifecycle, ()>() > root);
//!
//! // A million such services need about 120 MB (more with bevy's `track_location`).
//! let fleet = footprint::bytes_per_service::<Lifecycle, ()>() * 1_000_000;
//! assert!((50_000_000..250_000_000).contains(&fleet));
//! ```

use bevy_ecs::archetype::ArchetypeEntity;
use bevy_ecs::bundle::Bundle;
use bevy_ecs::change_detection::{MaybeLocation, Tick};
use bevy_ecs::component::StorageType;
use bevy_ecs::entity::{Entity, EntityGeneration, EntityLocation};
use bevy_ecs::world::World;
use lifecycle_ecs_components::{
    LifecycleFlags, LifecycleParent, LifecycleState, ServiceId, ServiceKind,
};

/// Bevy's entity meta per entity (generation, location, spawn tick and location, as bevy lays out
/// its private `EntityMeta`).
const ENTITY_META_BYTES: usize = size_of::<EntityGeneration>()
    + size_of::<Option<EntityLocation>>()
    + size_of::<MaybeLocation>()
    + size_of::<Tick>();

/// Bevy's records per entity besides its components: its entity meta, counted twice because bevy
/// keeps the metas in a vector that doubles its capacity and fills all of it (the engine sizes it
/// exactly for large batches, but small ones grow it as bevy does); its archetype row; and its
/// table row.
pub const ENTITY_RECORD_BYTES: usize =
    2 * ENTITY_META_BYTES + size_of::<ArchetypeEntity>() + size_of::<Entity>();

/// What bevy stores per component and entity besides the value: the added and changed ticks,
/// and the source of the change with `track_location`.
pub const COMPONENT_RECORD_BYTES: usize = 2 * size_of::<Tick>() + size_of::<MaybeLocation>();

/// What a sparse-set component stores per entity besides its value and [`COMPONENT_RECORD_BYTES`]:
/// its dense row's entity and its sparse index.
const SPARSE_SET_ENTRY_BYTES: usize = size_of::<Entity>() + size_of::<u32>();

/// The engine's own entries per spawned service: the entity in the list a spawn returns.
pub const SPAWN_ENTRY_BYTES: usize = size_of::<Entity>();

/// The entries per child on top of a service's: its slot in its parent's children list; the
/// parent's entry in the [`LifecycleTree`](lifecycle_ecs_components::LifecycleTree) (its list, 16 bytes, beside the parent's entity, and
/// the parent's slot in the tree's index), counted whole for every child as a parent of one child
/// pays all of it; and the lists an operation's walk down the tree builds per level (the children
/// in attach order, then the movers with their old state, which become the movers in place).
pub const CHILD_ENTRY_BYTES: usize = size_of::<Entity>()
    + TREE_ENTRY_BYTES
    + size_of::<u32>()
    + size_of::<Entity>()
    + size_of::<(Entity, LifecycleState)>();

/// A parent's entry in the [`LifecycleTree`](lifecycle_ecs_components::LifecycleTree): its entity and its 16-byte children list.
const TREE_ENTRY_BYTES: usize = size_of::<Entity>() + 16;

/// The estimated bytes one service of kind `K`, spawned with per-service data `B` by
/// [`Engine::spawn_batch_with`](crate::Engine::spawn_batch_with) (or one of its forms), costs
/// while it exists. See the [module docs](self) for what is counted.
///
/// # Panics
/// As bevy's bundle registration: if `B` repeats a component of the service (the spawn would
/// panic too).
pub fn bytes_per_service<K: ServiceKind, B: Bundle>() -> usize {
    service_bytes::<K, B>(&mut World::new())
}

/// The estimated bytes one child of kind `K`, spawned with per-service data `B` by
/// [`Engine::spawn_children_with`](crate::Engine::spawn_children_with) (or one of its forms),
/// costs while it exists, its link to its parent included.
///
/// # Panics
/// As [`bytes_per_service`].
pub fn bytes_per_child<K: ServiceKind, B: Bundle>() -> usize {
    child_bytes::<K, B>(&mut World::new())
}

/// [`bytes_per_service`], registering the components in `world`.
pub(crate) fn service_bytes<K: ServiceKind, B: Bundle>(world: &mut World) -> usize {
    stored_bytes::<(K, LifecycleState, LifecycleFlags, ServiceId, B)>(world) + SPAWN_ENTRY_BYTES
}

/// [`bytes_per_child`], registering the components in `world`.
pub(crate) fn child_bytes<K: ServiceKind, B: Bundle>(world: &mut World) -> usize {
    stored_bytes::<(
        K,
        LifecycleState,
        LifecycleFlags,
        ServiceId,
        LifecycleParent,
        B,
    )>(world)
        + SPAWN_ENTRY_BYTES
        + CHILD_ENTRY_BYTES
}

/// What bevy stores for one entity spawned with bundle `S`: every component it contributes
/// (required ones included) with its records, and the entity's own records.
fn stored_bytes<S: Bundle>(world: &mut World) -> usize {
    let ids = world
        .register_bundle::<S>()
        .contributed_components()
        .to_vec();
    let components = world.components();
    let stored: usize = ids
        .iter()
        .filter_map(|&id| components.get_info(id))
        .map(|info| {
            let entry = match info.storage_type() {
                StorageType::Table => 0,
                StorageType::SparseSet => SPARSE_SET_ENTRY_BYTES,
            };
            info.layout().size() + COMPONENT_RECORD_BYTES + entry
        })
        .sum();
    stored + ENTITY_RECORD_BYTES
}

/// The estimated bytes of `count` services of `bytes` each; `None` past `usize`.
pub(crate) fn total_bytes(count: usize, bytes: usize) -> Option<usize> {
    count.checked_mul(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_ecs_components::Lifecycle;

    #[test]
    fn the_root_kind_costs_its_four_components_and_bevys_records() {
        let values =
            size_of::<LifecycleState>() + size_of::<LifecycleFlags>() + size_of::<ServiceId>();
        assert_eq!(
            bytes_per_service::<Lifecycle, ()>(),
            values + 4 * COMPONENT_RECORD_BYTES + ENTITY_RECORD_BYTES + SPAWN_ENTRY_BYTES
        );
    }

    #[test]
    fn a_child_costs_its_parent_link_and_entries() {
        assert_eq!(
            bytes_per_child::<Lifecycle, ()>(),
            bytes_per_service::<Lifecycle, ()>()
                + size_of::<LifecycleParent>()
                + COMPONENT_RECORD_BYTES
                + CHILD_ENTRY_BYTES
        );
    }
}
