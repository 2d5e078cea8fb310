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
    mut bundle: impl FnMut(usize) -> B,
) -> Vec<Entity> {
    let Some(allocate) = u32::try_from(count).ok().filter(|_| count >= EXACT_MIN) else {
        return world.spawn_batch((0..count).map(bundle)).collect();
    };
    let mut entities: Vec<Entity> = world.entity_allocator().alloc_many(allocate).collect();
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
    for (i, entity) in entities.iter_mut().enumerate() {
        let components = bundle(i);
        if world.entities().check_can_spawn_at(*entity).is_ok() {
            // Cannot fail: just checked.
            if let Ok(spawned) = world.spawn_at(*entity, components) {
                *entity = spawned.id();
            }
        } else {
            *entity = world.spawn(components).id();
        }
    }
    entities
}
