//! The background plugin: background tasks in both forms (batch timers, [`background`](crate::Engine::add_background_task);
//! a future per service, [`async_background`](crate::async_background)) plugged into the phase
//! steps. Its state is two World resources; without the plugin, registering a task is a
//! [`PluginMissingError`](crate::PluginMissingError).
//!
//! | step | what it does |
//! |---|---|
//! | `BeforeOperation` | collects what background work reported (failures, finished runs, despawned services) |
//! | `PhaseStart` of a start | launches the batch's timers and async tasks, before its children start |
//! | `PhaseEnd` of a stop | ends them, after its children stopped: runs in progress dropped, async tasks cancelled **and awaited** (within the task stop timeout) |
//! | `StopRequested` | async tasks end at their next iteration check |
//! | `RunLoopTick` | runs what is due, asks to be woken at the next due time |

use bevy_ecs::world::World;
use lifecycle_ecs_components::Operation;

use crate::async_background::{AsyncBackgroundTasks, wind_down_async_tasks};
use crate::background::{
    BackgroundTasks, collect_background_results, end_background_tasks, schedule_background_tasks,
    tick,
};
use crate::background_common::BACKGROUND_PLUGIN;
use crate::builder::{EngineBuilder, EnginePlugin};
use crate::phase_step::{PhaseStep, StepContext, StepFuture};

/// Background tasks, both forms (see [`async_background`](crate::async_background) for the async form).
#[derive(Clone, Copy, Debug, Default)]
pub struct BackgroundPlugin;

impl EnginePlugin for BackgroundPlugin {
    fn build(&self, builder: &mut EngineBuilder) {
        builder.on_build(|world, settings| {
            world.init_resource::<BackgroundTasks>();
            world.insert_resource(AsyncBackgroundTasks::new(settings.task_stop_timeout()));
        });
        builder
            .add_step(
                PhaseStep::BeforeOperation,
                "background::collect_results",
                |world, _| collect_background_results(world),
            )
            .add_step(PhaseStep::PhaseStart, "background::launch", launch)
            .add_step(
                PhaseStep::StopRequested,
                "background::wind_down",
                wind_down_async_tasks,
            )
            .add_step(PhaseStep::RunLoopTick, "background::tick", run_due);
        builder
            .add_async_step(PhaseStep::PhaseEnd, "background::end", end)
            .expect("PhaseEnd takes async steps");
    }

    fn name(&self) -> &str {
        BACKGROUND_PLUGIN
    }
}

/// `PhaseStart`: a start launches the batch's tasks.
fn launch(world: &mut World, step: StepContext<'_>) {
    if step.operation() == Some(Operation::Start) {
        schedule_background_tasks(world, step);
    }
}

/// `PhaseEnd`: a stop ends the batch's tasks and awaits them.
fn end<'a>(world: &'a mut World, step: StepContext<'a>) -> StepFuture<'a> {
    Box::pin(async move {
        if step.operation() == Some(Operation::Stop) {
            end_background_tasks(world, step).await;
        }
    })
}

/// `RunLoopTick`: runs what is due; wakes the loop at the next due time.
fn run_due(world: &mut World, step: StepContext<'_>) {
    tick(world);
    if let Some(next) = world
        .get_resource::<BackgroundTasks>()
        .and_then(BackgroundTasks::next_due)
    {
        step.wake_by(next);
    }
}
