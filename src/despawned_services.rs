//! Services despawned while they had background tasks: noted by an observer when the entity goes,
//! so the engine ends their timers and tasks at its next step (nothing leaks, nothing panics).

use bevy_ecs::entity::Entity;
use bevy_ecs::lifecycle::Despawn;
use bevy_ecs::observer::On;
use bevy_ecs::resource::Resource;
use bevy_ecs::system::ResMut;
use bevy_ecs::world::World;
use lifecycle_ecs_components::Lifecycle;

/// The services despawned since the engine last looked.
#[derive(Resource, Default)]
pub(crate) struct DespawnedServices(Vec<Entity>);

impl DespawnedServices {
    /// Starts noting despawned services in `world` (once; later calls do nothing).
    pub(crate) fn watch(world: &mut World) {
        if world.contains_resource::<Self>() {
            return;
        }
        world.init_resource::<Self>();
        world.add_observer(
            |event: On<Despawn<Lifecycle>>, mut despawned: ResMut<DespawnedServices>| {
                despawned.0.push(event.entity);
            },
        );
    }

    /// Takes the services despawned so far.
    pub(crate) fn take(world: &mut World) -> Vec<Entity> {
        if world
            .get_resource::<Self>()
            .is_none_or(|despawned| despawned.0.is_empty())
        {
            return Vec::new();
        }
        std::mem::take(&mut world.resource_mut::<Self>().0)
    }
}
