//! Child lifecycles: a manager with workers attached as children. Children initialize and start
//! before the manager's own hooks and stop after them, in reverse attach order.
//!
//! Run with `cargo run --example children`.

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;

/// The parent service.
#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Manager;

impl ServiceKind for Manager {
    const NAME: &'static str = "Manager";
    type Bases = (Lifecycle,);
}

/// A hook on the root kind: runs for every service, printing which hook ran for whom.
fn trace_hook(label: &'static str) -> impl FnMut(Targets<Lifecycle, &ServiceId>) + Send + Sync {
    move |mut targets: Targets<Lifecycle, &ServiceId>| {
        targets.for_each(|_, id| println!("{label:<5} {id}"));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = Engine::new();
    engine.add_named_hook::<Lifecycle, _>(HookType::OnInit, "init", trace_hook("init"))?;
    engine.add_named_hook::<Lifecycle, _>(HookType::OnStop, "stop", trace_hook("stop"))?;

    let manager = engine.spawn(Manager);
    for _ in 0..3 {
        engine.spawn_child(manager, Lifecycle)?;
    }
    engine.initialize(manager);
    engine.stop(manager);
    Ok(())
}
