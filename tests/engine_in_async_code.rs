//! `Engine::new()` inside async code: the `_async` operations run their futures on the runtime
//! that awaits them, dropping the engine there is quiet, and a blocking operation that would have
//! to wait inside a current-thread runtime refuses with a message naming the async method.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::{Base, SharedLog, async_step, counted_io, sync_step, tag};
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, RunEnd};

/// A hang guard on tokio's clock (paused in the current-thread tests): a hang fails the test
/// instead of blocking it.
const GUARD: Duration = Duration::from_secs(600);

/// An engine of its own runtime with a log, an async hook, a sync hook after it, and a hook whose
/// future never ends but has a 2 s timeout.
fn engine_with_async_hooks() -> (Engine, SharedLog) {
    let mut engine = Engine::new();
    let log = SharedLog::default();
    engine.world_mut().insert_resource(log.clone());
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "io",
            async_step("io", Duration::from_millis(10), vec![]),
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "after", sync_step("after"))
        .unwrap();
    engine
        .add_hook_with::<Base, _>(
            HookType::OnStart,
            HookConfig::named("hangs").timeout(Duration::from_secs(2)),
            |mut targets: Targets<Base>, mut tasks: HookTasks, hanging: Res<Hanging>| {
                targets.for_each(|entity, ()| {
                    if hanging.0 == Some(entity) {
                        tasks.spawn(entity, std::future::pending::<Result<(), HookError>>());
                    }
                });
            },
        )
        .unwrap();
    engine.world_mut().insert_resource(Hanging(None));
    (engine, log)
}

/// The service whose start future never ends.
#[derive(Resource)]
struct Hanging(Option<Entity>);

/// Initializes two services (async then sync hook), starts them with one hanging start future,
/// stops them, and checks every step; then drops the engine, still inside the runtime.
async fn initialize_start_stop_and_drop() {
    let (mut engine, log) = engine_with_async_hooks();
    let fine = engine.spawn(Base);
    let hanging = engine.spawn(Base);
    engine.world_mut().insert_resource(Hanging(Some(hanging)));

    let init = tokio::time::timeout(GUARD, engine.initialize_async(Selection::All))
        .await
        .expect("initialize_async finishes");
    assert_eq!(init.moved, 2);
    let mut lines = log.take();
    lines[..2].sort();
    let mut io = [tag("io", fine), tag("io", hanging)];
    io.sort();
    assert_eq!(lines[..2], io[..]);
    assert_eq!(lines[2..], [tag("after", fine), tag("after", hanging)]);

    let start = tokio::time::timeout(GUARD, engine.start_async(Selection::All))
        .await
        .expect("start_async finishes");
    assert_eq!(start.moved, 1);
    assert_eq!(start.failed_entities().collect::<Vec<_>>(), vec![hanging]);
    let failure = &engine.failures().records()[0];
    assert_eq!(failure.error.type_name(), "TimedOut");
    assert_eq!(failure.service_id, *engine.service_id(hanging).unwrap());
    assert_eq!(engine.state(fine), Some(LifecycleState::Running));
    assert_eq!(engine.state(hanging), Some(LifecycleState::Failed));

    let stop = tokio::time::timeout(GUARD, engine.stop_async(Selection::All))
        .await
        .expect("stop_async finishes");
    assert_eq!(stop.moved, 1);
    assert_eq!(engine.state(fine), Some(LifecycleState::Stopped));
    drop(engine);
}

#[tokio::test(start_paused = true)]
async fn async_operations_of_a_new_engine_run_inside_a_current_thread_test() {
    initialize_start_stop_and_drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_operations_of_a_new_engine_run_inside_a_multi_thread_test() {
    initialize_start_stop_and_drop().await;
}

#[tokio::main]
async fn users_main() {
    initialize_start_stop_and_drop().await;
}

#[test]
fn async_operations_of_a_new_engine_run_inside_a_users_tokio_main() {
    users_main();
}

#[test]
fn an_engine_made_outside_a_runtime_runs_its_async_operations_inside_one() {
    let (mut engine, log) = engine_with_async_hooks();
    let service = engine.spawn(Base);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let report = runtime.block_on(async {
        tokio::time::timeout(GUARD, engine.initialize_async(service))
            .await
            .expect("initialize_async finishes")
    });
    assert_eq!(report.moved, 1);
    assert_eq!(log.take(), vec![tag("io", service), tag("after", service)]);
}

#[tokio::test]
async fn dropping_a_new_engine_inside_async_code_is_quiet() {
    let engine = Engine::new();
    drop(engine);
    let mut engine = Engine::new();
    let runtime = engine.runtime();
    let service = engine.spawn(Lifecycle);
    engine.initialize_async(service).await;
    drop(engine);
    // The engine's own runtime outlives it in a clone, and its last clone drops here, inside.
    drop(runtime);
}

#[tokio::test(start_paused = true)]
async fn async_background_tasks_of_a_new_engine_run_inside_a_test() {
    let mut engine = Engine::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    engine
        .add_async_background_task::<Lifecycle, _, _>(
            HookConfig::named("beat"),
            BackgroundTaskParams::every(Duration::from_millis(10)),
            |_| (),
            move |_| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    let service = engine.spawn(Lifecycle);
    engine.initialize_async(service).await;
    engine.start_async(service).await;
    let end = engine
        .run_until(Duration::from_millis(35), std::future::pending())
        .await;
    assert_eq!(end, RunEnd::Completed);
    tokio::time::timeout(GUARD, engine.stop_async(service))
        .await
        .expect("stop_async finishes");
    assert_eq!(
        runs.load(Ordering::Relaxed),
        4,
        "runs at 0, 10, 20 and 30 ms"
    );
    assert_eq!(engine.background_tasks_alive(), 0);
    assert!(engine.abandoned_background_tasks().is_empty());
}

#[tokio::test]
#[should_panic(expected = "use `Engine::initialize_async(…).await`")]
async fn a_blocking_operation_with_async_work_inside_a_current_thread_runtime_names_the_async_method()
 {
    let mut engine = Engine::new();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "io",
            counted_io(Arc::default(), Duration::ZERO, |_| false),
        )
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize(service);
}

#[tokio::test]
async fn a_blocking_operation_without_async_work_runs_inside_a_current_thread_runtime() {
    let mut engine = Engine::new();
    engine.world_mut().insert_resource(SharedLog::default());
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "sync", sync_step("sync"))
        .unwrap();
    let service = engine.spawn(Base);
    assert_eq!(engine.initialize(service).moved, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_operation_with_async_work_runs_inside_a_multi_thread_runtime() {
    let finished = Arc::new(AtomicUsize::new(0));
    let mut engine = Engine::new();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "io",
            counted_io(finished.clone(), Duration::from_millis(1), |_| false),
        )
        .unwrap();
    let services = engine.spawn_batch(Base, 10);
    assert_eq!(engine.initialize(Selection::All).moved, 10);
    assert_eq!(finished.load(Ordering::Relaxed), services.len());
}
