//! The run loop: returns when every service ended (stopped through stop requests from hooks,
//! tasks or other code), when its duration passes, or when shutdown is requested. Paused clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, HookConfig, RunEnd, StopHandle, TaskContext};

#[tokio::test(start_paused = true)]
async fn run_returns_once_tasks_stopped_every_service() {
    let mut engine = engine_here();
    let handle = engine.stop_handle();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    // Each service's task stops its own service after its third run.
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("countdown"),
            BackgroundTaskParams::every(Duration::from_millis(10)),
            |_| Arc::new(AtomicUsize::new(0)),
            move |context: TaskContext<Arc<AtomicUsize>>| {
                let handle = handle.clone();
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    if context.data.fetch_add(1, Ordering::Relaxed) == 2 {
                        handle.stop(context.entity);
                    }
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    let services = engine.spawn_batch(Base, 50);
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    let started = tokio::time::Instant::now();

    let end = engine.run(std::future::pending()).await;

    assert_eq!(end, RunEnd::AllEnded);
    assert_eq!(started.elapsed(), Duration::from_millis(20));
    assert_eq!(
        runs.load(Ordering::Relaxed),
        150,
        "three runs each, none after stop"
    );
    assert!(
        services
            .iter()
            .all(|&s| engine.state(s) == Some(LifecycleState::Stopped))
    );
    assert_eq!(engine.background_tasks_alive(), 0);
}

/// After `after` runs of the batch heartbeat, a hook asks (through the resource) to stop all.
#[derive(Resource)]
struct Budget(u32);

fn heartbeat(mut targets: Targets<Base>, mut budget: ResMut<Budget>, stop: Res<StopHandle>) {
    targets.for_each(|_, ()| {});
    budget.0 = budget.0.saturating_sub(1);
    if budget.0 == 0 {
        stop.stop_all();
    }
}

#[tokio::test(start_paused = true)]
async fn a_batch_task_can_stop_the_fleet_through_the_stop_handle_resource() {
    let mut engine = engine_here();
    engine.world_mut().insert_resource(Budget(4));
    engine
        .add_background_task::<Base, _>(
            HookConfig::named("heartbeat"),
            BackgroundTaskParams::every(Duration::from_millis(5)),
            heartbeat,
        )
        .unwrap();
    engine.spawn_batch(Base, 10);
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    let started = tokio::time::Instant::now();

    let end = engine.run(std::future::pending()).await;

    assert_eq!(end, RunEnd::AllEnded);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(15),
        "runs at 0, 5, 10, 15"
    );
    assert_eq!(
        engine.state_counts()[LifecycleState::Stopped.index()],
        10,
        "{:?}",
        engine.state_counts()
    );
}

#[tokio::test(start_paused = true)]
async fn run_until_completes_after_its_duration_and_shutdown_interrupts_run() {
    let mut engine = engine_here();
    let service = engine.spawn(Base);
    engine.initialize_async(service).await;
    engine.start_async(service).await;

    let started = tokio::time::Instant::now();
    let end = engine
        .run_until(Duration::from_secs(2), std::future::pending())
        .await;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(started.elapsed(), Duration::from_secs(2));

    let end = engine
        .run(tokio::time::sleep(Duration::from_millis(300)))
        .await;
    assert_eq!(end, RunEnd::ShutdownRequested);
    assert_eq!(
        engine.state(service),
        Some(LifecycleState::Running),
        "run leaves stopping to shutdown"
    );
    let report = engine
        .shutdown(Duration::from_secs(10), std::future::pending())
        .await;
    assert!(!report.aborted);
    assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
}

#[tokio::test(start_paused = true)]
async fn run_returns_at_once_when_nothing_is_running() {
    let mut engine = engine_here();
    assert_eq!(engine.run(std::future::pending()).await, RunEnd::AllEnded);
    let service = engine.spawn(Base);
    engine.initialize_async(service).await;
    engine.stop_async(service).await;
    assert_eq!(engine.run(std::future::pending()).await, RunEnd::AllEnded);
}
