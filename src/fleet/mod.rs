//! `lifecycle-ecs fleet`: spawn a fleet of services, run it through its whole lifecycle, and
//! report the time per phase, the final states, the failures and the memory per service.

mod args;
mod error;
mod exit_error_groups;
mod fail_plan;
mod hooks;
mod json_file;
mod kinds;
mod memory;
mod memory_check;
mod summary;
mod table;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use lifecycle_ecs::exit_report::ExitErrorPanel;
use lifecycle_ecs::{
    DEFAULT_SHUTDOWN_BUDGET, Engine, HookType, LifecycleState, Operation, OperationReport,
    Selection,
};

pub use args::{BackgroundMode, FleetArgs};
use error::FleetError;
use fail_plan::FailPlan;
pub use json_file::JsonFile;
use kinds::{FailInit, FleetChild, FleetWorker, HookCalls};
use memory::MemorySample;
pub use memory_check::check_memory;
use summary::{
    BackgroundStats, FleetSummary, MAX_GROUPS, MemoryFigures, PhaseStats, Phases, SpawnStats,
    StateCounts, StopStats,
};

/// Exit code of a run where some service did not stop cleanly.
const EXIT_FAILED: u8 = 1;

/// Exit code of a run ended by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
const EXIT_SIGNALLED: u8 = 130;

/// Runs the fleet benchmark, prints its table (and writes it to `json`, the `--json` file opened
/// beforehand), and returns the exit code: 0 when every service stopped cleanly, 1 otherwise or
/// if the run could not be carried out.
pub fn run(args: &FleetArgs, json: Option<JsonFile>) -> ExitCode {
    let outcome = measure(args).and_then(|summary| {
        let panel = ExitErrorPanel::for_stdout();
        table::print(&summary, &panel, &mut std::io::stdout().lock()).map_err(FleetError::Print)?;
        if let Some(json) = json {
            json.write(&summary)?;
        }
        Ok((summary.clean, summary.signalled))
    });
    match outcome {
        Ok((_, true)) => ExitCode::from(EXIT_SIGNALLED),
        Ok((true, false)) => ExitCode::SUCCESS,
        Ok((false, false)) => ExitCode::from(EXIT_FAILED),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Builds the fleet, runs initialize, start and stop over it, and measures everything.
fn measure(args: &FleetArgs) -> Result<FleetSummary, FleetError> {
    let services = args
        .services()
        .expect("the fleet size was checked by FleetArgs::validate");
    let plan = FailPlan::new(args.workers, args.failing_workers());

    let mut engine = Engine::new();
    hooks::register::<FleetWorker>(&mut engine, args.hooks, args.async_hooks)?;
    if args.children > 0 {
        hooks::register::<FleetChild>(&mut engine, args.hooks, args.async_hooks)?;
    }
    if let Some(interval) = args.background_interval {
        hooks::register_heartbeat(&mut engine, interval, args.background_mode)?;
    }
    let hook_systems = [HookType::OnInit, HookType::OnStart, HookType::OnStop]
        .into_iter()
        .map(|hook_type| engine.hook_count(hook_type))
        .sum();

    let before = memory_sample("before spawning");
    let (attach, spawn) = timed(|| spawn_fleet(&mut engine, args, plan));
    let attach = attach?;

    let (report, elapsed) = timed(|| engine.initialize(Selection::All));
    let initialize = PhaseStats::of_operation(elapsed, services, &report);
    drop(report);
    let (report, elapsed) = timed(|| engine.start(Selection::All));
    let start = PhaseStats::of_operation(elapsed, services, &report);
    drop(report);
    let running = args.running_time();
    let runtime = engine.runtime();
    // While RUNNING, SIGINT/SIGTERM end the run early and stop everything gracefully (a second
    // signal, or the budget running out, abandons what is left and says so).
    // `--duration inf` (`running` is `None`): RUNNING until a signal.
    if running.is_none() {
        eprintln!("the fleet is RUNNING until SIGINT or SIGTERM (--duration inf)");
    }
    let (signalled_run, run_and_shutdown) = timed(|| {
        (running != Some(Duration::ZERO))
            .then(|| runtime.block_on(engine.run_with_signals(running, DEFAULT_SHUTDOWN_BUDGET)))
    });
    let shutdown = signalled_run.and_then(|run| run.shutdown);
    let signalled = shutdown.is_some();
    let heartbeat_runs = hooks::heartbeat_runs(&engine);
    let mut shutdown_aborted = false;
    let mut unfinished_services = 0;
    let (ran, report, elapsed) = match shutdown {
        Some(shutdown) => {
            shutdown_aborted = shutdown.aborted;
            unfinished_services = shutdown.unfinished.len();
            let report = shutdown
                .stop
                .unwrap_or_else(|| OperationReport::new(Operation::Stop));
            (
                run_and_shutdown.saturating_sub(shutdown.elapsed),
                report,
                shutdown.elapsed,
            )
        }
        None => {
            let (report, elapsed) = timed(|| engine.stop(Selection::All));
            (run_and_shutdown, report, elapsed)
        }
    };
    let stop = StopStats {
        stats: PhaseStats::of_operation(elapsed, services, &report),
        drain_s: elapsed.as_secs_f64(),
    };
    drop(report);
    let leaked_tasks = engine.background_timers() + engine.background_tasks_alive();
    let background = BackgroundStats {
        interval_ms: args.background_interval,
        mode: args.background_mode,
        duration_s: ran.as_secs_f64(),
        runs: heartbeat_runs,
        runs_per_s: if ran.is_zero() {
            0.0
        } else {
            heartbeat_runs as f64 / ran.as_secs_f64()
        },
        ideal_runs_per_s: args.background_interval.map_or(0.0, |interval| {
            args.workers as f64 * 1000.0 / interval.max(1) as f64
        }),
        leaked_tasks,
    };
    let after = memory_sample("after stopping");

    let final_states = StateCounts(engine.state_counts());
    let hook_failures = engine.failures().total();
    let hook_calls = count_hook_calls(&mut engine);
    let mut exit_error_groups = exit_error_groups::largest_first(&mut engine);
    let exit_error_group_count = exit_error_groups.len();
    exit_error_groups.truncate(MAX_GROUPS);
    let memory = MemoryFigures::new(before, after, services);
    let stopped = final_states.get(LifecycleState::Stopped);

    Ok(FleetSummary {
        version: env!("CARGO_PKG_VERSION"),
        workers: args.workers,
        children: args.children,
        async_hooks: args.async_hooks,
        services,
        hooks: args.hooks,
        hook_systems,
        fail_rate: args.fail_rate,
        failing_workers: plan.failing(),
        phases: Phases {
            spawn: SpawnStats {
                stats: PhaseStats::timed(spawn, services, services),
                attach_s: attach.as_secs_f64(),
            },
            initialize,
            start,
            stop,
        },
        background,
        final_states,
        failures: final_states.get(LifecycleState::Failed),
        hook_failures,
        hook_calls,
        exit_error_groups,
        exit_error_group_count,
        rss_before_spawn_bytes: memory.before,
        rss_after_stop_bytes: memory.after,
        peak_rss_bytes: memory.peak,
        bytes_per_service: memory.per_service,
        clean: stopped == services && hook_failures == 0 && leaked_tasks == 0,
        signalled,
        shutdown_aborted,
        unfinished_services,
    })
}

/// Spawns the workers (marking the failing ones) and their children, attaching each child to its
/// worker. Returns the time spent attaching.
fn spawn_fleet(
    engine: &mut Engine,
    args: &FleetArgs,
    plan: FailPlan,
) -> Result<Duration, FleetError> {
    let workers = engine.try_spawn_batch_with(FleetWorker, args.workers, |_| HookCalls(0))?;
    engine
        .world_mut()
        .insert_batch(plan.indices().map(|index| (workers[index], FailInit)));
    if args.children == 0 {
        return Ok(Duration::ZERO);
    }
    let attach_started = Instant::now();
    engine.spawn_children_with(&workers, FleetChild, args.children, |_| HookCalls(0))?;
    Ok(attach_started.elapsed())
}

/// Runs `f` and measures its wall time.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

/// Samples the process's memory, logging (not failing) when it cannot.
fn memory_sample(moment: &str) -> Option<MemorySample> {
    memory::sample().unwrap_or_else(|error| {
        tracing::warn!("cannot measure memory {moment}: {error}");
        None
    })
}

/// The fleet's hook calls, summed over every service.
fn count_hook_calls(engine: &mut Engine) -> u64 {
    let world = engine.world_mut();
    let mut query = world.query::<&HookCalls>();
    query.iter(world).map(|calls| u64::from(calls.0)).sum()
}
