//! Batch spawns that size bevy's entity records to the batch.
//!
//! Bevy keeps one record per entity index in a vector that, when it grows, doubles and fills
//! all of its new capacity: spawning 10 M services one after another leaves records for up to
//! 2²⁴ of them, all resident (24 bytes each). Spawning the batch's highest index first makes that
//! vector grow once, to the batch's exact end.

use bevy_ecs::bundle::{Bundle, NoBundleEffect};
use bevy_ecs::entity::Entity;
use bevy_ecs::world::World;

/// Below this many services a batch goes through `World::spawn_batch` (the records' slack is
/// small, and bevy's batch path is a little faster).
const EXACT_MIN: usize = 1 << 14;

/// Spawns `count` entities, the `i`-th with `bundle(i)`, in order; returns them.
pub(crate) fn spawn_exact<B: Bundle<Effect: NoBundleEffect>>(
    world: &mut World,
    count: usize,
    bundle: impl FnMut(usize) -> B,
) -> Vec<Entity> {
    let mut entities = Vec::new();
    spawn_exact_into(world, count, bundle, &mut entities);
    entities
}

/// As [`spawn_exact`], writing the entities into `entities` (which it clears) as it goes: if
/// `bundle` panics, `entities` holds every entity spawned so far (and, for a big batch, ids
/// allocated for the rest but not spawned).
pub(crate) fn spawn_exact_into<B: Bundle<Effect: NoBundleEffect>>(
    world: &mut World,
    count: usize,
    mut bundle: impl FnMut(usize) -> B,
    entities: &mut Vec<Entity>,
) {
    entities.clear();
    let Some(allocate) = u32::try_from(count).ok().filter(|_| count >= EXACT_MIN) else {
        // Bundles first: a panicking `bundle` then never runs inside bevy's batch iterator
        // (whose drop would call it again, mid-unwind).
        let bundles: Vec<B> = (0..count).map(bundle).collect();
        entities.extend(world.spawn_batch(bundles));
        return;
    };
    entities.extend(world.entity_allocator().alloc_many(allocate));
    // Touch the highest index first (an empty placeholder, taken back without freeing the
    // entity, which keeps it allocated for its real spawn below, one generation on).
    if let Some((at, &highest)) = entities
        .iter()
        .enumerate()
        .max_by_key(|(_, entity)| entity.index())
        && let Ok(placeholder) = world.spawn_empty_at(highest)
    {
        let placeholder = placeholder.id();
        if let Some(next) = world.despawn_no_free(placeholder) {
            entities[at] = next;
        }
    }
    for (i, slot) in entities.iter_mut().enumerate() {
        let components = bundle(i);
        let entity = *slot;
        *slot = if world.entities().check_can_spawn_at(entity).is_ok() {
            match world.spawn_at(entity, components) {
                Ok(spawned) => spawned.id(),
                // Cannot happen: just checked.
                Err(_) => entity,
            }
        } else {
            world.spawn(components).id()
        };
    }
}
