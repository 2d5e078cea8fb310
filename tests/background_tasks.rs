//! Background tasks (AIPerf §4): immediate vs delayed first run, fixed rate with skipped ticks,
//! fixed delay, per-service intervals, `stop_on_error`, run-once until success, no run after stop,
//! no timer left behind. All on tokio's paused clock.

mod common;

use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, HookConfig, Pacing};
use tokio::time::Instant;

/// When each run happened, in virtual milliseconds since the test began.
#[derive(Component, Default)]
struct Runs(Vec<u64>);

/// The virtual clock's origin.
#[derive(Resource)]
struct Origin(Instant);

/// Fails every run while `failures_left > 0`.
#[derive(Component, Default)]
struct Flaky {
    failures_left: u32,
    period_ms: u64,
}

fn record_run(mut targets: Targets<Base, (&mut Runs, Option<&mut Flaky>)>, origin: Res<Origin>) {
    let at = origin.0.elapsed().as_millis() as u64;
    targets.try_for_each(|_, (mut runs, flaky)| {
        runs.0.push(at);
        match flaky {
            Some(mut flaky) if flaky.failures_left > 0 => {
                flaky.failures_left -= 1;
                Err("not yet")
            }
            _ => Ok(()),
        }
    });
}

fn engine_with(params: BackgroundTaskParams) -> Engine {
    let mut engine = Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .build();
    engine.world_mut().insert_resource(Origin(Instant::now()));
    engine
        .add_background_task::<Base, _>(HookConfig::named("record_run"), params, record_run)
        .unwrap();
    engine
}

fn runs(engine: &Engine, service: Entity) -> Vec<u64> {
    engine.world().get::<Runs>(service).unwrap().0.clone()
}

async fn started(engine: &mut Engine, extra: Flaky) -> Entity {
    let service = engine.spawn_with(Base, (Runs::default(), extra));
    engine.initialize_async(service).await;
    engine.start_async(service).await;
    service
}

#[tokio::test(start_paused = true)]
async fn an_immediate_task_runs_at_start_then_at_a_fixed_rate() {
    let mut engine = engine_with(BackgroundTaskParams::every(Duration::from_millis(100)));
    let service = started(&mut engine, Flaky::default()).await;
    let report = engine.run_for_async(Duration::from_millis(450)).await;
    assert_eq!(runs(&engine, service), vec![0, 100, 200, 300, 400]);
    assert_eq!(report.runs, 5);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_task_first_runs_after_one_interval() {
    let params = BackgroundTaskParams::every(Duration::from_millis(100)).immediate(false);
    let mut engine = engine_with(params);
    let service = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(Duration::from_millis(250)).await;
    assert_eq!(runs(&engine, service), vec![100, 200]);
}

#[tokio::test(start_paused = true)]
async fn a_late_tick_skips_the_missed_runs_instead_of_bursting() {
    let mut engine = engine_with(BackgroundTaskParams::every(Duration::from_millis(100)));
    let service = started(&mut engine, Flaky::default()).await;
    engine.tick_async().await; // t = 0
    tokio::time::advance(Duration::from_millis(350)).await; // the driver stalls
    assert_eq!(engine.tick_async().await.runs, 1, "one run, not three");
    engine.run_for_async(Duration::from_millis(100)).await; // next due at 400, not 450
    assert_eq!(runs(&engine, service), vec![0, 350, 400]);
}

#[tokio::test(start_paused = true)]
async fn fixed_delay_waits_the_interval_after_each_run() {
    let params = BackgroundTaskParams::every(Duration::from_millis(100)).pacing(Pacing::FixedDelay);
    let mut engine = engine_with(params);
    let service = started(&mut engine, Flaky::default()).await;
    engine.tick_async().await; // t = 0
    tokio::time::advance(Duration::from_millis(350)).await;
    engine.tick_async().await; // t = 350, next at 450
    engine.run_for_async(Duration::from_millis(150)).await;
    assert_eq!(runs(&engine, service), vec![0, 350, 450]);
}

#[tokio::test(start_paused = true)]
async fn the_interval_can_be_computed_per_service_at_every_run() {
    let params = BackgroundTaskParams::every_per_service(|service| {
        let flaky = service.get::<Flaky>().expect("fixture has Flaky");
        Duration::from_millis(flaky.period_ms)
    });
    let mut engine = engine_with(params);
    let fast = started(
        &mut engine,
        Flaky {
            failures_left: 0,
            period_ms: 50,
        },
    )
    .await;
    let slow = started(
        &mut engine,
        Flaky {
            failures_left: 0,
            period_ms: 200,
        },
    )
    .await;
    engine.run_for_async(Duration::from_millis(120)).await;
    // The next run (due at 150) was computed after the run at 100; the new period applies from
    // the run after it, as AIPerf re-evaluates its callable interval at every iteration.
    engine.world_mut().get_mut::<Flaky>(fast).unwrap().period_ms = 100;
    engine.run_for_async(Duration::from_millis(180)).await;
    assert_eq!(runs(&engine, fast), vec![0, 50, 100, 150, 250]);
    assert_eq!(runs(&engine, slow), vec![0, 200]);
}

#[tokio::test(start_paused = true)]
async fn stop_on_error_ends_the_task_for_that_service_only() {
    let params = BackgroundTaskParams::every(Duration::from_millis(100)).stop_on_error(true);
    let mut engine = engine_with(params);
    let failing = started(
        &mut engine,
        Flaky {
            failures_left: 1,
            period_ms: 0,
        },
    )
    .await;
    let healthy = started(&mut engine, Flaky::default()).await;
    let report = engine.run_for_async(Duration::from_millis(250)).await;
    assert_eq!(runs(&engine, failing), vec![0]);
    assert_eq!(runs(&engine, healthy), vec![0, 100, 200]);
    assert_eq!(report.failed, 1);
    assert_eq!(
        engine.state(failing),
        Some(LifecycleState::Running),
        "a task failure does not fail the service"
    );
    assert_eq!(&*engine.failures().records()[0].hook, "record_run");
}

#[tokio::test(start_paused = true)]
async fn without_stop_on_error_a_failing_task_keeps_running() {
    let mut engine = engine_with(BackgroundTaskParams::every(Duration::from_millis(100)));
    let service = started(
        &mut engine,
        Flaky {
            failures_left: 2,
            period_ms: 0,
        },
    )
    .await;
    engine.run_for_async(Duration::from_millis(250)).await;
    assert_eq!(runs(&engine, service), vec![0, 100, 200]);
}

#[tokio::test(start_paused = true)]
async fn a_run_once_task_runs_until_its_first_success() {
    let mut engine = engine_with(BackgroundTaskParams::once());
    let service = started(
        &mut engine,
        Flaky {
            failures_left: 2,
            period_ms: 0,
        },
    )
    .await;
    engine.run_for_async(Duration::from_millis(100)).await;
    assert_eq!(runs(&engine, service), vec![0, 1, 2]);
    assert_eq!(engine.background_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn stop_ends_the_timers_and_no_run_starts_after_it() {
    let mut engine = engine_with(BackgroundTaskParams::every(Duration::from_millis(10)));
    let services: Vec<Entity> = (0..100)
        .map(|_| engine.spawn_with(Base, Runs::default()))
        .collect();
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    assert_eq!(engine.background_timers(), 100);
    let report = engine.run_for_async(Duration::from_millis(95)).await;
    assert_eq!(report.runs, 100 * 10);
    engine.request_stop(services[0]);
    engine.tick_async().await;
    tokio::time::advance(Duration::from_millis(10)).await;
    engine.tick_async().await;
    assert_eq!(
        runs(&engine, services[0]).len(),
        10,
        "no new run once stop is requested"
    );
    engine.stop_async(Selection::All).await;
    assert_eq!(engine.background_timers(), 0);
    assert!(engine.next_background_due().is_none());
    let after = engine.run_for_async(Duration::from_millis(50)).await;
    assert_eq!(after.runs, 0);
}

#[tokio::test(start_paused = true)]
async fn tasks_start_before_children_and_end_after_them() {
    let mut engine = engine_with(BackgroundTaskParams::every(Duration::from_millis(10)));
    engine.world_mut().init_resource::<Log>();
    let parent = engine.spawn_with(Base, Runs::default());
    let child = engine.spawn_with(Base, Runs::default());
    engine.attach_child(parent, child).unwrap();
    engine.initialize_async(parent).await;
    engine.start_async(parent).await;
    assert_eq!(engine.background_timers(), 2);
    engine.stop_async(parent).await;
    assert_eq!(engine.background_timers(), 0);
}
