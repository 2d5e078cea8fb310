//! A user plugin: a resource and a phase step that counts batches (`cargo run --example plugins`).

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{EngineBuilder, PhaseStep};

#[derive(Resource, Default)]
struct Batches(u64);

fn count_batches(builder: &mut EngineBuilder) {
    builder.init_resource::<Batches>();
    builder.add_step(PhaseStep::PhaseStart, "count_batches", |world, _step| {
        world.resource_mut::<Batches>().0 += 1;
    });
}

fn main() {
    let mut engine = Engine::builder().add_plugin(count_batches).build();
    engine.spawn_batch(Lifecycle, 1_000);
    engine.initialize(Selection::All);
    assert_eq!(engine.world().resource::<Batches>().0, 1);
    println!("one initialize of 1 000 services ran the step once (one batch)");
}
