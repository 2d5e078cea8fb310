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
    engine.set_stop_requested(services[0]);
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

// ---------------------------------------------------------------------------------------------
// A task that hands work to tokio (`HookTasks`): one run per due tick, no overlap, nothing held up.

/// What each run of [`hand_over`] hands to tokio: a future per service that sleeps `lasts` and
/// then fails when `fails`.
#[derive(Resource, Clone, Copy)]
struct Work {
    lasts: Duration,
    fails: bool,
}

/// Counts the futures of [`hand_over`] that were dropped before they finished.
#[derive(Resource, Clone, Default)]
struct Dropped(std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// Increments its counter when dropped unfinished.
struct DropGuard(Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>);

impl DropGuard {
    /// The future finished: it was not dropped early.
    fn finished(mut self) {
        self.0 = None;
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(counter) = self.0.take() {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Records the run, then hands tokio a future per due service.
fn hand_over(
    mut targets: Targets<Base, &mut Runs>,
    mut tasks: HookTasks,
    origin: Res<Origin>,
    work: Res<Work>,
    dropped: Res<Dropped>,
) {
    let at = origin.0.elapsed().as_millis() as u64;
    let Work { lasts, fails } = *work;
    targets.for_each(|entity, mut runs| {
        runs.0.push(at);
        let guard = DropGuard(Some(dropped.0.clone()));
        tasks.spawn(entity, async move {
            tokio::time::sleep(lasts).await;
            guard.finished();
            if fails {
                Err(HookError::from("endpoint down"))
            } else {
                Ok(())
            }
        });
    });
}

/// When each run of the fast, sync [`beat`] task happened.
#[derive(Component, Default)]
struct Beats(Vec<u64>);

fn beat(mut targets: Targets<Base, &mut Beats>, origin: Res<Origin>) {
    let at = origin.0.elapsed().as_millis() as u64;
    targets.for_each(|_, mut beats| beats.0.push(at));
}

fn engine_handing_over(params: BackgroundTaskParams, work: Work) -> Engine {
    let mut engine = Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .build();
    engine.world_mut().insert_resource(Origin(Instant::now()));
    engine.world_mut().insert_resource(work);
    engine.world_mut().init_resource::<Dropped>();
    engine
        .add_background_task::<Base, _>(HookConfig::named("hand_over"), params, hand_over)
        .unwrap();
    engine
}

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

#[tokio::test(start_paused = true)]
async fn a_task_handing_work_to_tokio_runs_once_per_due_tick() {
    let work = Work {
        lasts: ms(30),
        fails: false,
    };
    let mut engine = engine_handing_over(BackgroundTaskParams::every(ms(100)), work);
    let service = started(&mut engine, Flaky::default()).await;
    let report = engine.run_for_async(ms(1_000)).await;
    assert_eq!(
        runs(&engine, service),
        vec![0, 100, 200, 300, 400, 500, 600, 700, 800, 900]
    );
    assert_eq!(report.runs, 10);
    assert!(engine.failures().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_run_is_not_overlapped_by_the_next_while_its_futures_run() {
    // Fixed rate: the run due at 0 finishes at 250; the next one is the first due time after.
    let work = Work {
        lasts: ms(250),
        fails: false,
    };
    let mut engine = engine_handing_over(BackgroundTaskParams::every(ms(100)), work);
    let service = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(ms(1_000)).await;
    assert_eq!(runs(&engine, service), vec![0, 300, 600, 900]);
}

#[tokio::test(start_paused = true)]
async fn fixed_delay_counts_from_when_the_runs_futures_finished() {
    let work = Work {
        lasts: ms(30),
        fails: false,
    };
    let params = BackgroundTaskParams::every(ms(100)).pacing(Pacing::FixedDelay);
    let mut engine = engine_handing_over(params, work);
    let service = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(ms(400)).await;
    assert_eq!(runs(&engine, service), vec![0, 130, 260, 390]);
}

#[tokio::test(start_paused = true)]
async fn the_run_loop_and_other_tasks_are_not_held_up_while_a_runs_futures_run() {
    let work = Work {
        lasts: ms(250),
        fails: false,
    };
    let mut engine = engine_handing_over(BackgroundTaskParams::every(ms(1_000)), work);
    engine
        .add_background_task::<Base, _>(
            HookConfig::named("beat"),
            BackgroundTaskParams::every(ms(10)),
            beat,
        )
        .unwrap();
    let service = engine.spawn_with(Base, (Runs::default(), Beats::default()));
    engine.initialize_async(service).await;
    engine.start_async(service).await;
    let end = engine
        .run_until(ms(100), std::future::pending::<()>())
        .await;
    assert_eq!(end, RunEnd::Completed);
    let beats = engine.world().get::<Beats>(service).unwrap().0.clone();
    assert_eq!(beats, vec![0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert_eq!(runs(&engine, service), vec![0]);
    assert_eq!(
        engine.background_timers(),
        2,
        "the run in progress still holds its service"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_future_fails_its_run() {
    let work = Work {
        lasts: ms(30),
        fails: true,
    };
    let params = BackgroundTaskParams::every(ms(100)).stop_on_error(true);
    let mut engine = engine_handing_over(params, work);
    let service = started(&mut engine, Flaky::default()).await;
    let report = engine.run_for_async(ms(500)).await;
    assert_eq!(runs(&engine, service), vec![0], "stop_on_error ended it");
    assert_eq!(report.failed, 1);
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].to_string(), "Base.hand_over: endpoint down");
    assert_eq!(failures[0].hook_type, HookType::BackgroundTask);
    assert_eq!(engine.state(service), Some(LifecycleState::Running));
    assert_eq!(engine.background_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn stop_drops_the_futures_of_a_run_in_progress() {
    let work = Work {
        lasts: ms(1_000),
        fails: false,
    };
    let mut engine = engine_handing_over(BackgroundTaskParams::every(ms(100)), work);
    let service = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(ms(50)).await;
    let dropped = engine.world().resource::<Dropped>().0.clone();
    assert_eq!(dropped.load(std::sync::atomic::Ordering::Relaxed), 0);
    let stopped_at = Instant::now();
    engine.stop_async(service).await;
    assert_eq!(stopped_at.elapsed(), Duration::ZERO, "nothing to wait for");
    assert_eq!(
        dropped.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "dropped before stop returned"
    );
    assert_eq!(engine.background_timers(), 0);
    assert_eq!(engine.run_for_async(ms(2_000)).await.runs, 0);
    assert!(engine.failures().is_empty());
}

#[tokio::test(start_paused = true)]
async fn fixed_delay_backs_off_one_millisecond_after_a_failed_run() {
    // AIPerf §4.3: on an error, sleep 1 ms, then the interval.
    let params = BackgroundTaskParams::every(ms(100)).pacing(Pacing::FixedDelay);
    let mut engine = engine_with(params);
    let service = started(
        &mut engine,
        Flaky {
            failures_left: u32::MAX,
            period_ms: 0,
        },
    )
    .await;
    engine.run_for_async(ms(250)).await;
    assert_eq!(runs(&engine, service), vec![0, 101, 202]);
}

#[tokio::test(start_paused = true)]
async fn fixed_rate_keeps_its_due_times_after_a_failed_run() {
    let mut engine = engine_with(BackgroundTaskParams::every(ms(100)));
    let service = started(
        &mut engine,
        Flaky {
            failures_left: u32::MAX,
            period_ms: 0,
        },
    )
    .await;
    engine.run_for_async(ms(250)).await;
    assert_eq!(runs(&engine, service), vec![0, 100, 200]);
}

#[tokio::test(start_paused = true)]
async fn an_interval_of_duration_max_means_never_again() {
    let mut engine = engine_with(BackgroundTaskParams::every(Duration::MAX));
    let service = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(ms(10_000)).await;
    assert_eq!(runs(&engine, service), vec![0], "the immediate run only");
    engine.stop_async(service).await;
    assert_eq!(engine.background_timers(), 0);

    let params = BackgroundTaskParams::every(Duration::MAX).pacing(Pacing::FixedDelay);
    let mut engine = engine_with(params);
    let service = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(ms(10_000)).await;
    assert_eq!(runs(&engine, service), vec![0]);

    let params = BackgroundTaskParams::every(Duration::MAX).immediate(false);
    let mut engine = engine_with(params);
    let service = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(ms(10_000)).await;
    assert!(runs(&engine, service).is_empty(), "never due");
}

#[tokio::test(start_paused = true)]
async fn run_for_duration_max_runs_until_dropped() {
    let mut engine = engine_with(BackgroundTaskParams::every(ms(100)));
    let service = started(&mut engine, Flaky::default()).await;
    let outcome = tokio::time::timeout(ms(250), engine.run_for_async(Duration::MAX)).await;
    assert!(outcome.is_err(), "it runs for ever");
    assert_eq!(runs(&engine, service), vec![0, 100, 200]);
}

#[tokio::test(start_paused = true)]
async fn a_zero_interval_runs_every_millisecond() {
    let mut engine = engine_with(BackgroundTaskParams::every(Duration::ZERO));
    let service = started(&mut engine, Flaky::default()).await;
    let start = Instant::now();
    engine.tick_async().await;
    assert_eq!(
        engine.next_background_due(),
        Some(start + ms(1)),
        "not due again at once"
    );
    let report = engine.run_for_async(ms(3)).await;
    assert_eq!(runs(&engine, service), vec![0, 1, 2]);
    assert_eq!(
        report.runs, 2,
        "the run due at 3 ms is left for the next call"
    );
}

#[tokio::test(start_paused = true)]
async fn a_despawned_service_loses_its_timer_and_its_futures() {
    let work = Work {
        lasts: ms(1_000),
        fails: false,
    };
    let mut engine = engine_handing_over(BackgroundTaskParams::every(ms(100)), work);
    let kept = started(&mut engine, Flaky::default()).await;
    let gone = started(&mut engine, Flaky::default()).await;
    engine.run_for_async(ms(50)).await;
    assert_eq!(engine.background_timers(), 2);
    engine.world_mut().despawn(gone);
    engine.tick_async().await;
    assert_eq!(engine.background_timers(), 1, "no leak");
    engine.run_for_async(ms(10)).await;
    let dropped = engine.world().resource::<Dropped>().0.clone();
    assert_eq!(
        dropped.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "its future was dropped"
    );
    engine.stop_async(Selection::All).await;
    assert_eq!(engine.state(kept), Some(LifecycleState::Stopped));
    assert_eq!(engine.background_timers(), 0);
    assert!(engine.failures().is_empty());
}

/// A per-service interval that panics for services without a period.
fn period_or_panic() -> BackgroundTaskParams {
    BackgroundTaskParams::every_per_service(|service| {
        let flaky = service.get::<Flaky>().expect("fixture has Flaky");
        assert!(flaky.period_ms > 0, "no period configured");
        Duration::from_millis(flaky.period_ms)
    })
}

#[tokio::test(start_paused = true)]
async fn a_panicking_per_service_interval_fails_that_services_start_only() {
    // Not immediate: the first due time needs the interval at start.
    let mut engine = engine_with(period_or_panic().immediate(false));
    let broken = engine.spawn_with(Base, (Runs::default(), Flaky::default()));
    let fine = engine.spawn_with(
        Base,
        (
            Runs::default(),
            Flaky {
                failures_left: 0,
                period_ms: 100,
            },
        ),
    );
    engine.initialize_async(Selection::All).await;
    let report = engine.start_async(Selection::All).await;
    assert_eq!(report.moved, 1);
    assert_eq!(engine.state(broken), Some(LifecycleState::Failed));
    assert!(
        engine.exit_errors(broken)[0]
            .error_details
            .message
            .contains("no period configured"),
        "{:?}",
        engine.exit_errors(broken)
    );
    engine.run_for_async(ms(250)).await;
    assert_eq!(runs(&engine, fine), vec![100, 200]);
    assert!(runs(&engine, broken).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_per_service_interval_panicking_after_a_run_ends_that_task_only() {
    let mut engine = engine_with(period_or_panic());
    let broken = started(&mut engine, Flaky::default()).await;
    let report = engine.run_for_async(ms(250)).await;
    assert_eq!(
        runs(&engine, broken),
        vec![0],
        "its immediate run, then no next due time"
    );
    assert_eq!(report.runs, 1);
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].to_string(),
        "Base.record_run: panicked: no period configured"
    );
    assert_eq!(engine.state(broken), Some(LifecycleState::Running));
    assert_eq!(engine.background_timers(), 0);
}
