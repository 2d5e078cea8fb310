//! [`BusPlugin`]: the bus as a plugin — its resources, ownership of ON_MESSAGE, and a pump at
//! every run-loop tick.

use bevy_ecs::world::World;
use lifecycle_ecs_components::HookType;

use super::message_hooks::{MESSAGE_HOOK_OWNER, MessageHooks};
use super::pump::{MAX_ROUNDS_PER_PUMP, pump};
use super::{BusOutbox, BusReport, BusRound, TopicTable};
use crate::async_bridge::EngineAsync;
use crate::builder::{EngineBuilder, EnginePlugin};
use crate::phase_step::{PhaseStep, StepContext};

/// The bus plugin's name.
pub const BUS_PLUGIN: &str = "bus";

/// The in-process message bus: publishing ([`Publish`](super::Publish),
/// [`BusHandle`](super::BusHandle), [`Engine::publish`](crate::Engine::publish)), ON_MESSAGE
/// hooks ([`Deliveries`](super::Deliveries)), and the [`BusReport`].
///
/// | step | what it does |
/// |---|---|
/// | `RunLoopTick` | pumps the bus: rounds until the outbox is empty (at most [`MAX_ROUNDS_PER_PUMP`]); wakes the loop again at once if messages still wait |
///
/// Tests and programs without a run loop pump explicitly with
/// [`Engine::pump_messages`](crate::Engine::pump_messages).
#[derive(Clone, Copy, Debug, Default)]
pub struct BusPlugin;

impl EnginePlugin for BusPlugin {
    fn build(&self, builder: &mut EngineBuilder) {
        builder.on_build(|world, _| {
            let wake = world
                .get_resource::<EngineAsync>()
                .map(|engine| engine.wake.clone());
            world.insert_resource(BusOutbox::new(wake));
            world.init_resource::<TopicTable>();
            world.init_resource::<BusRound>();
            world.init_resource::<BusReport>();
            world.init_resource::<MessageHooks>();
        });
        builder.own_hook_type(HookType::OnMessage, MESSAGE_HOOK_OWNER);
        builder.add_step(PhaseStep::RunLoopTick, "bus::pump", pump_on_tick);
    }

    fn name(&self) -> &str {
        BUS_PLUGIN
    }
}

fn pump_on_tick(world: &mut World, step: StepContext<'_>) {
    let pumped = pump(world, MAX_ROUNDS_PER_PUMP);
    if pumped.more_waiting {
        step.wake_by(tokio::time::Instant::now());
    }
}
