//! The lifecycle hook family: ON_INIT / ON_START / ON_STOP / ON_STATE_CHANGE on a small fleet,
//! one service failing its init and taking the fail path.
//!
//! Run with `cargo run --example lifecycle_hooks`.

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;

/// A worker service (AIPerf: `class Worker(AIPerfLifecycleMixin)`).
#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Worker;

impl ServiceKind for Worker {
    const NAME: &'static str = "Worker";
    type Bases = (Lifecycle,);
}

/// How many requests a worker has open.
#[derive(Component, Default)]
struct OpenConnections(u32);

/// Marks the worker whose backend is down.
#[derive(Component)]
struct BackendDown;

/// ON_INIT: connect; a worker whose backend is down fails (the others still connect).
fn connect(mut targets: Targets<Worker, (&mut OpenConnections, Has<BackendDown>)>) {
    targets.try_for_each(|_, (mut open, down)| {
        if down {
            return Err(HookError::from("connection refused"));
        }
        open.0 = 1;
        Ok(())
    });
}

/// ON_STOP: close.
fn disconnect(mut targets: Targets<Worker, &mut OpenConnections>) {
    targets.for_each(|_, mut open| open.0 = 0);
}

/// ON_STATE_CHANGE: print every transition.
fn announce(mut targets: Targets<Worker, &ServiceId>) {
    let change = targets
        .state_change()
        .expect("state-change hooks get the change");
    targets.for_each(|_, id| println!("{id}: {} -> {}", change.old, change.new));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = Engine::new();
    engine.add_hook::<Worker, _>(HookType::OnInit, connect)?;
    engine.add_hook::<Worker, _>(HookType::OnStop, disconnect)?;
    engine.add_hook::<Worker, _>(HookType::OnStateChange, announce)?;

    let workers = engine.spawn_batch_with(Worker, 3, |_| OpenConnections(0));
    engine
        .world_mut()
        .entity_mut(workers[2])
        .insert(BackendDown);

    let started = engine.initialize_and_start(Selection::All);
    println!(
        "initialized {}, started {}, failed {}",
        started.initialize.moved,
        started.start.moved,
        started.initialize.failed.len()
    );
    for failed in &started.initialize.failed {
        println!(
            "exit error: {}",
            serde_json::to_string(&failed.exit_errors)?
        );
    }
    let stopped = engine.stop(Selection::All);
    println!(
        "stopped {}, ignored {}",
        stopped.moved,
        stopped.ignored.len()
    );
    Ok(())
}
