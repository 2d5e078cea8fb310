//! The fleet's hooks: `K` trivial counting systems per phase and per kind, the first ON_INIT hook
//! of a worker failing the workers marked [`FailInit`].

use lifecycle_ecs::bevy_ecs::query::Has;
use lifecycle_ecs::{
    Engine, HookError, HookRegistrationError, HookTasks, HookType, ServiceKind, Targets,
};

use super::BackgroundMode;
use super::kinds::{FailInit, HookCalls};

/// The error an injected ON_INIT failure reports. It is the same for every service, so the exit
/// errors group into one line.
pub const INJECTED_FAILURE: &str = "injected init failure (--fail-rate)";

/// The phases the fleet registers hooks for, with the prefix of the hooks' names.
const PHASES: [(HookType, &str); 3] = [
    (HookType::OnInit, "init"),
    (HookType::OnStart, "start"),
    (HookType::OnStop, "stop"),
];

/// Counts one call for every target service.
fn count_calls<K: ServiceKind>(mut targets: Targets<K, &mut HookCalls>) {
    targets.for_each(|_, mut calls| calls.0 = calls.0.wrapping_add(1));
}

/// Counts one call for every target service, and fails the ones marked [`FailInit`].
fn count_calls_or_fail<K: ServiceKind>(mut targets: Targets<K, (&mut HookCalls, Has<FailInit>)>) {
    // One error shared by every failing service (a `HookError` clones as an `Arc`), so the
    // benchmark measures the engine's failure path rather than the hook's allocations.
    let error = HookError::msg(INJECTED_FAILURE);
    targets.try_for_each(|_, (mut calls, fail)| {
        calls.0 = calls.0.wrapping_add(1);
        if fail { Err(error.clone()) } else { Ok(()) }
    });
}

/// Counts one call for every target service and hands it a future that yields once to tokio
/// (`--async-hooks`); with `FAILS`, the marked [`FailInit`] services' futures fail.
fn count_calls_async<K: ServiceKind, const FAILS: bool>(
    mut targets: Targets<K, (&mut HookCalls, Has<FailInit>)>,
    mut tasks: HookTasks,
) {
    targets.for_each(|entity, (mut calls, fail)| {
        calls.0 = calls.0.wrapping_add(1);
        tasks.spawn(entity, async move {
            tokio::task::yield_now().await;
            if FAILS && fail {
                Err(HookError::msg(INJECTED_FAILURE))
            } else {
                Ok(())
            }
        });
    });
}

/// Registers `per_phase` hooks named `init_<i>`, `start_<i>` and `stop_<i>` for kind `K`. The
/// first ON_INIT hook fails the services marked [`FailInit`].
///
/// # Errors
/// If `K` does not provide the lifecycle hook types (it always does, through `Lifecycle`).
pub fn register<K: ServiceKind>(
    engine: &mut Engine,
    per_phase: usize,
    async_hooks: bool,
) -> Result<(), HookRegistrationError> {
    for (hook_type, prefix) in PHASES {
        for index in 0..per_phase {
            let name = format!("{prefix}_{index}");
            if async_hooks {
                // Only the first ON_INIT hook fails the marked services, as in the sync fleet.
                if hook_type == HookType::OnInit && index == 0 {
                    engine.add_named_hook::<K, _>(hook_type, name, count_calls_async::<K, true>)?;
                } else {
                    engine.add_named_hook::<K, _>(
                        hook_type,
                        name,
                        count_calls_async::<K, false>,
                    )?;
                }
            } else if hook_type == HookType::OnInit && index == 0 {
                engine.add_named_hook::<K, _>(hook_type, name, count_calls_or_fail::<K>)?;
            } else {
                engine.add_named_hook::<K, _>(hook_type, name, count_calls::<K>)?;
            }
        }
    }
    Ok(())
}

/// How many heartbeat runs the workers' background task made.
#[derive(lifecycle_ecs::bevy_ecs::resource::Resource, Default)]
pub struct HeartbeatRuns(pub u64);

/// The workers' heartbeat (`--background-interval`): one run per due worker.
fn heartbeat(
    mut targets: Targets<super::kinds::FleetWorker>,
    mut runs: lifecycle_ecs::bevy_ecs::system::ResMut<HeartbeatRuns>,
) {
    targets.for_each(|_, ()| runs.0 += 1);
}

/// Registers the workers' heartbeat background task, every `interval_ms`, in `mode`.
///
/// # Errors
/// If the task's schedule does not build.
pub fn register_heartbeat(
    engine: &mut Engine,
    interval_ms: u64,
    mode: BackgroundMode,
) -> Result<(), HookRegistrationError> {
    let config = lifecycle_ecs::HookConfig::named("heartbeat");
    let params =
        lifecycle_ecs::BackgroundTaskParams::every(std::time::Duration::from_millis(interval_ms));
    match mode {
        BackgroundMode::Batch => {
            engine.world_mut().init_resource::<HeartbeatRuns>();
            engine.add_background_task::<super::kinds::FleetWorker, _>(config, params, heartbeat)
        }
        // Each run counts itself in the engine's `async_background_runs`.
        BackgroundMode::Async => engine
            .add_async_background_task::<super::kinds::FleetWorker, _, _>(
                config,
                params,
                |_| (),
                |_context| std::future::ready(Ok::<(), HookError>(())),
            ),
    }
}

/// Heartbeat runs so far, in either mode.
pub fn heartbeat_runs(engine: &Engine) -> u64 {
    engine
        .world()
        .get_resource::<HeartbeatRuns>()
        .map_or(0, |runs| runs.0)
        + engine.async_background_runs()
}
