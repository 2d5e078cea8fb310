//! Services despawned while an operation runs (a hook's commands despawned them), so the
//! operation's report can count them.
//!
//! An observer on the despawn of every service records it while an operation runs (nothing is
//! recorded between operations, and nothing is done for a despawn but this one push). It also
//! notes whether the service had reached the operation's final state during the operation, that
//! is whether the report counted it in `moved`.

use bevy_ecs::change_detection::{DetectChanges, Tick};
use bevy_ecs::entity::Entity;
use bevy_ecs::lifecycle::Despawn;
use bevy_ecs::observer::On;
use bevy_ecs::resource::Resource;
use bevy_ecs::system::{Query, ResMut, SystemChangeTick};
use bevy_ecs::world::{Ref, World};
use lifecycle_ecs_components::{Lifecycle, LifecycleState, Operation};

/// A service despawned during an operation.
pub(crate) struct Despawned {
    pub(crate) entity: Entity,
    /// It had reached the operation's final state in this operation (so it was counted moved).
    pub(crate) reached_final: bool,
}

/// What the running operation is, for the observer.
struct Watching {
    since: Tick,
    final_state: LifecycleState,
}

/// The despawns recorded for the running operation.
#[derive(Resource, Default)]
pub(crate) struct OperationDespawns {
    watching: Option<Watching>,
    despawned: Vec<Despawned>,
}

/// Adds the recorder to a new engine's world.
pub(crate) fn install(world: &mut World) {
    world.init_resource::<OperationDespawns>();
    world.add_observer(record_despawn);
}

fn record_despawn(
    despawn: On<Despawn<Lifecycle>>,
    states: Query<Ref<LifecycleState>>,
    mut despawns: ResMut<OperationDespawns>,
    ticks: SystemChangeTick,
) {
    let despawns = &mut *despawns;
    let Some(watching) = &despawns.watching else {
        return;
    };
    let entity = despawn.entity;
    let reached_final = states.get(entity).is_ok_and(|state| {
        *state == watching.final_state
            && state
                .last_changed()
                .is_newer_than(watching.since, ticks.this_run())
    });
    despawns.despawned.push(Despawned {
        entity,
        reached_final,
    });
}

/// Starts recording the despawns of `operation`, about to run.
pub(crate) fn watch(world: &mut World, operation: Operation) {
    // Every state change from now on is newer than `since`.
    let since = world.increment_change_tick();
    let mut despawns = world.resource_mut::<OperationDespawns>();
    despawns.despawned.clear();
    despawns.watching = Some(Watching {
        since,
        final_state: operation.final_state(),
    });
}

/// Stops recording; the services despawned since [`watch`].
pub(crate) fn take(world: &mut World) -> Vec<Despawned> {
    let mut despawns = world.resource_mut::<OperationDespawns>();
    despawns.watching = None;
    std::mem::take(&mut despawns.despawned)
}
