//! Async background tasks (a tokio task per service): AIPerf's parameters, cancellation that a
//! stop awaits, tasks that ignore cancellation reported by name, nothing leaked. Paused clock.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, Engine, HookConfig, Pacing, TaskContext};
use tokio::time::Instant;

/// Run times in virtual milliseconds, per service.
#[derive(Clone, Default)]
struct Times(Arc<Mutex<Vec<(Entity, u64)>>>);

impl Times {
    fn of(&self, service: Entity) -> Vec<u64> {
        let times = self.0.lock().unwrap();
        times
            .iter()
            .filter(|(entity, _)| *entity == service)
            .map(|(_, at)| *at)
            .collect()
    }
}

/// The per-service period of `every_per_service` tests.
#[derive(Component)]
struct PeriodMs(u64);

fn engine() -> Engine {
    Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .task_stop_timeout(Duration::from_millis(100))
        .build()
}

/// Registers a task that records when it runs and fails while `failures` lasts.
fn add_recorder(engine: &mut Engine, params: BackgroundTaskParams, failures: usize) -> Times {
    let times = Times::default();
    let recorded = times.clone();
    let origin = Instant::now();
    let left = Arc::new(AtomicUsize::new(failures));
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("record"),
            params,
            |_| (),
            move |context: TaskContext| {
                let recorded = recorded.clone();
                let left = left.clone();
                async move {
                    let at = origin.elapsed().as_millis() as u64;
                    recorded.0.lock().unwrap().push((context.entity, at));
                    if left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        return Err(HookError::from("not yet"));
                    }
                    Ok(())
                }
            },
        )
        .unwrap();
    times
}

async fn running(engine: &mut Engine) -> Entity {
    let service = engine.spawn(Base);
    engine.initialize_async(service).await;
    engine.start_async(service).await;
    service
}

#[tokio::test(start_paused = true)]
async fn runs_at_a_fixed_rate_from_an_immediate_first_run() {
    let mut engine = engine();
    let times = add_recorder(&mut engine, BackgroundTaskParams::every(ms(10)), 0);
    let service = running(&mut engine).await;
    engine.run_for_async(ms(35)).await;
    assert_eq!(times.of(service), vec![0, 10, 20, 30]);
    engine.stop_async(service).await;
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_first_run_waits_one_interval() {
    let mut engine = engine();
    let times = add_recorder(
        &mut engine,
        BackgroundTaskParams::every(ms(10)).immediate(false),
        0,
    );
    let service = running(&mut engine).await;
    engine.run_for_async(ms(25)).await;
    assert_eq!(times.of(service), vec![10, 20]);
}

#[tokio::test(start_paused = true)]
async fn an_interval_per_service_is_read_when_its_task_starts() {
    let mut engine = engine();
    let times = add_recorder(
        &mut engine,
        BackgroundTaskParams::every_per_service(|service| {
            ms(service.get::<PeriodMs>().map_or(1_000, |period| period.0))
        }),
        0,
    );
    let fast = engine.spawn_with(Base, PeriodMs(5));
    let slow = engine.spawn_with(Base, PeriodMs(20));
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    engine.run_for_async(ms(41)).await;
    assert_eq!(times.of(fast).len(), 9, "0, 5, …, 40");
    assert_eq!(times.of(slow), vec![0, 20, 40]);
}

#[tokio::test(start_paused = true)]
async fn stop_on_error_ends_the_task_after_its_first_failure() {
    let mut engine = engine();
    let times = add_recorder(
        &mut engine,
        BackgroundTaskParams::every(ms(10)).stop_on_error(true),
        1,
    );
    let service = running(&mut engine).await;
    engine.run_for_async(ms(50)).await;
    assert_eq!(times.of(service), vec![0]);
    assert_eq!(engine.failures().len(), 1, "the failure is recorded");
    let failure = &engine.failures().records()[0];
    assert_eq!(&*failure.hook, "record");
    assert_eq!(failure.hook_type, HookType::BackgroundTask);
    assert_eq!(
        engine.state(service),
        Some(LifecycleState::Running),
        "a background failure does not fail the service (AIPerf)"
    );
    assert_eq!(engine.background_tasks_alive(), 0, "its task ended");
    engine.stop_async(service).await;
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn without_stop_on_error_a_failing_task_keeps_its_rate() {
    let mut engine = engine();
    let times = add_recorder(&mut engine, BackgroundTaskParams::every(ms(10)), 2);
    let service = running(&mut engine).await;
    engine.run_for_async(ms(35)).await;
    assert_eq!(times.of(service), vec![0, 10, 20, 30]);
    assert_eq!(engine.failures().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn run_once_runs_until_its_first_success() {
    let mut engine = engine();
    let times = add_recorder(&mut engine, BackgroundTaskParams::once(), 3);
    let service = running(&mut engine).await;
    engine.run_for_async(ms(50)).await;
    assert_eq!(
        times.of(service).len(),
        4,
        "three failures, then one success"
    );
    assert_eq!(engine.async_background_runs(), 4);
}

#[tokio::test(start_paused = true)]
async fn fixed_delay_waits_the_interval_after_each_run() {
    let mut engine = engine();
    let origin = Instant::now();
    let times = Times::default();
    let recorded = times.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("slow"),
            BackgroundTaskParams::every(ms(10)).pacing(Pacing::FixedDelay),
            |_| (),
            move |context: TaskContext| {
                let recorded = recorded.clone();
                async move {
                    recorded
                        .0
                        .lock()
                        .unwrap()
                        .push((context.entity, origin.elapsed().as_millis() as u64));
                    tokio::time::sleep(ms(5)).await;
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    let service = running(&mut engine).await;
    engine.run_for_async(ms(40)).await;
    assert_eq!(times.of(service), vec![0, 15, 30]);
}

/// A task whose single run lasts until its service stops (it watches its token), logging when it
/// sees the cancellation.
fn add_listener(engine: &mut Engine, ended: Arc<AtomicUsize>, log: SharedLog) {
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("listen"),
            BackgroundTaskParams::once(),
            |service| service.id(),
            move |context: TaskContext<Entity>| {
                let ended = ended.clone();
                let log = log.clone();
                async move {
                    context.cancelled().await;
                    tokio::time::sleep(ms(3)).await; // a graceful goodbye takes a moment
                    log.push(tag("listener_ended", context.data));
                    ended.fetch_add(1, Ordering::Relaxed);
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn stop_cancels_every_task_and_awaits_it() {
    let mut engine = engine();
    let ended = Arc::new(AtomicUsize::new(0));
    add_listener(&mut engine, ended.clone(), SharedLog::default());
    let services = engine.spawn_batch(Base, 10_000);
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    engine.run_for_async(ms(100)).await;
    assert_eq!(engine.background_tasks_alive(), 10_000);
    assert_eq!(ended.load(Ordering::Relaxed), 0);

    let report = engine.stop_async(Selection::All).await;

    assert_eq!(report.moved, 10_000);
    assert_eq!(
        ended.load(Ordering::Relaxed),
        10_000,
        "every task ended before stop returned"
    );
    assert_eq!(engine.background_tasks_alive(), 0);
    assert!(engine.abandoned_background_tasks().is_empty());
    assert!(
        services
            .iter()
            .all(|&s| engine.state(s) == Some(LifecycleState::Stopped))
    );
}

#[tokio::test(start_paused = true)]
async fn a_task_ignoring_cancellation_is_aborted_and_reported_by_name() {
    let mut engine = engine(); // stop timeout: 100 ms
    let stubborn = Arc::new(AtomicUsize::new(0));
    let polls = stubborn.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("stubborn"),
            BackgroundTaskParams::once(),
            |_| (),
            move |_context: TaskContext| {
                let polls = polls.clone();
                async move {
                    loop {
                        // Never looks at its token.
                        tokio::time::sleep(ms(10)).await;
                        polls.fetch_add(1, Ordering::Relaxed);
                    }
                }
            },
        )
        .unwrap();
    let service = running(&mut engine).await;
    engine.run_for_async(ms(50)).await;
    let started = Instant::now();

    let report = engine.stop_async(service).await;

    assert_eq!(report.moved, 1, "the service still stops");
    assert_eq!(started.elapsed(), ms(100), "bounded by the stop timeout");
    let abandoned = engine.abandoned_background_tasks();
    assert_eq!(abandoned.len(), 1);
    assert_eq!(&*abandoned[0].task, "stubborn");
    assert_eq!(Some(&abandoned[0].service_id), engine.service_id(service));
    assert_eq!(engine.background_tasks_alive(), 0, "aborted, not leaked");
    let polls_at_stop = stubborn.load(Ordering::Relaxed);
    tokio::time::sleep(ms(100)).await;
    assert_eq!(
        stubborn.load(Ordering::Relaxed),
        polls_at_stop,
        "it no longer runs"
    );
}

#[tokio::test(start_paused = true)]
async fn tasks_start_before_children_start_and_end_after_children_stopped() {
    let (mut engine, log) = engine_on_current_runtime();
    let ended = Arc::new(AtomicUsize::new(0));
    let started_log = log.clone();
    engine
        .add_async_background_task::<Derived, _, _>(
            HookConfig::named("parent_task"),
            BackgroundTaskParams::once(),
            move |service| {
                started_log.push(tag("task_started", service.id()));
            },
            |context: TaskContext| async move {
                context.cancelled().await;
                Ok::<(), HookError>(())
            },
        )
        .unwrap();
    add_listener(&mut engine, ended, log.clone());
    engine
        .add_named_hook::<Base, _>(HookType::OnStart, "child_start", sync_step("child_start"))
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "child_stop", sync_step("child_stop"))
        .unwrap();
    let parent = engine.spawn(Derived);
    let child = engine.spawn_child(parent, Base).unwrap();
    engine.initialize_async(parent).await;
    engine.start_async(parent).await;
    engine.stop_async(parent).await;
    let lines = log.lines();
    let position = |line: String| {
        lines
            .iter()
            .position(|l| *l == line)
            .unwrap_or_else(|| panic!("{line} missing from {lines:?}"))
    };
    assert!(position(tag("task_started", parent)) < position(tag("child_start", child)));
    assert!(position(tag("child_stop", child)) < position(tag("listener_ended", parent)));
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_run_is_recorded_and_the_task_goes_on() {
    let mut engine = engine();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("explode"),
            BackgroundTaskParams::every(ms(10)),
            |_| (),
            move |_context: TaskContext| {
                let counter = counter.clone();
                async move {
                    if counter.fetch_add(1, Ordering::Relaxed) == 0 {
                        panic!("boom");
                    }
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    running(&mut engine).await;
    engine.run_for_async(ms(25)).await;
    assert_eq!(runs.load(Ordering::Relaxed), 3);
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].error.to_string().contains("boom"));
}

#[tokio::test(start_paused = true)]
async fn a_run_past_its_own_timeout_fails_with_timed_out_and_the_task_goes_on() {
    let mut engine = engine();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("slow_poll").timeout(ms(20)),
            BackgroundTaskParams::every(ms(100)),
            |_| (),
            move |_context: TaskContext| {
                let first = counter.fetch_add(1, Ordering::Relaxed) == 0;
                async move {
                    if first {
                        tokio::time::sleep(ms(1_000)).await; // hangs past its 20 ms timeout
                    }
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    let service = running(&mut engine).await;
    engine.run_for_async(ms(150)).await;
    assert_eq!(runs.load(Ordering::Relaxed), 2, "the next run came on time");
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].to_string(),
        "Base.slow_poll: timed out after 0.020s"
    );
    assert_eq!(engine.state(service), Some(LifecycleState::Running));
}

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

#[tokio::test(start_paused = true)]
async fn setting_stop_requested_by_hand_ends_the_task_at_its_next_iteration() {
    // AIPerf §1.5: `stop_requested = True` ends every background loop at its next check.
    let mut engine = engine();
    let times = add_recorder(&mut engine, BackgroundTaskParams::every(ms(10)), 0);
    let ended = Arc::new(AtomicUsize::new(0));
    add_listener(&mut engine, ended.clone(), SharedLog::default());
    let service = running(&mut engine).await;
    let other = running(&mut engine).await;
    engine.run_for_async(ms(25)).await;
    assert_eq!(times.of(service), vec![0, 10, 20]);

    assert!(engine.set_stop_requested(service));
    engine.run_for_async(ms(50)).await;

    assert_eq!(times.of(service), vec![0, 10, 20], "no run after the flag");
    assert_eq!(
        ended.load(Ordering::Relaxed),
        1,
        "a long run sees the flag through its token"
    );
    assert_eq!(times.of(other).len(), 8, "the other service goes on");
    assert_eq!(
        engine.background_tasks_alive(),
        2,
        "only the other's two tasks"
    );
    assert!(engine.failures().is_empty());
    engine.stop_async(Selection::All).await;
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_service_started_with_stop_requested_runs_no_task() {
    let mut engine = engine();
    let times = add_recorder(&mut engine, BackgroundTaskParams::every(ms(10)), 0);
    let service = engine.spawn(Base);
    engine.initialize_async(service).await;
    engine.set_stop_requested(service);
    engine.start_async(service).await;
    engine.run_for_async(ms(50)).await;
    assert!(times.of(service).is_empty());
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn fixed_delay_backs_off_one_millisecond_after_a_failed_run() {
    // AIPerf §4.3: on an error, sleep 1 ms, then the interval.
    let mut engine = engine();
    let params = BackgroundTaskParams::every(ms(100)).pacing(Pacing::FixedDelay);
    let times = add_recorder(&mut engine, params, usize::MAX);
    let service = running(&mut engine).await;
    engine.run_for_async(ms(250)).await;
    assert_eq!(times.of(service), vec![0, 101, 202]);
}

#[tokio::test(start_paused = true)]
async fn fixed_rate_keeps_its_due_times_after_a_failed_run() {
    let mut engine = engine();
    let times = add_recorder(
        &mut engine,
        BackgroundTaskParams::every(ms(100)),
        usize::MAX,
    );
    let service = running(&mut engine).await;
    engine.run_for_async(ms(250)).await;
    assert_eq!(times.of(service), vec![0, 100, 200]);
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_task_closure_fails_that_run_only() {
    let mut engine = engine();
    let times = Times::default();
    let recorded = times.clone();
    let origin = Instant::now();
    let first = Arc::new(Mutex::new(None::<Entity>));
    let picked = first.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("poll"),
            BackgroundTaskParams::every(ms(10)),
            |_| (),
            move |context: TaskContext| {
                // The first service's first run panics before it returns its future.
                let mut first = picked.lock().unwrap();
                if first.is_none() {
                    *first = Some(context.entity);
                    drop(first);
                    panic!("no connection pool");
                }
                let recorded = recorded.clone();
                async move {
                    let at = origin.elapsed().as_millis() as u64;
                    recorded.0.lock().unwrap().push((context.entity, at));
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    let services = engine.spawn_batch(Base, 3);
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    engine.run_for_async(ms(25)).await;

    let panicked = first.lock().unwrap().expect("a run started");
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].entity, panicked);
    assert_eq!(
        failures[0].to_string(),
        "Base.poll: panicked: no connection pool"
    );
    for &service in &services {
        let expected: Vec<u64> = if service == panicked {
            vec![10, 20]
        } else {
            vec![0, 10, 20]
        };
        assert_eq!(times.of(service), expected, "every service goes on");
        assert_eq!(engine.state(service), Some(LifecycleState::Running));
    }
    let stopping = Instant::now();
    engine.stop_async(Selection::All).await;
    assert_eq!(stopping.elapsed(), Duration::ZERO, "stop does not stall");
    assert_eq!(engine.background_tasks_alive(), 0);
    assert!(engine.abandoned_background_tasks().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_prepare_fails_that_services_start_like_a_hook_panic() {
    /// Marks the service whose prepare step panics.
    #[derive(Component)]
    struct Misconfigured;

    let mut engine = engine();
    let times = Times::default();
    let recorded = times.clone();
    let origin = Instant::now();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("poll"),
            BackgroundTaskParams::every(ms(10)),
            |service| {
                assert!(
                    service.get::<Misconfigured>().is_none(),
                    "no endpoint configured"
                );
            },
            move |context: TaskContext| {
                let recorded = recorded.clone();
                async move {
                    let at = origin.elapsed().as_millis() as u64;
                    recorded.0.lock().unwrap().push((context.entity, at));
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    let broken = engine.spawn_with(Base, Misconfigured);
    let fine = engine.spawn(Base);
    engine.initialize_async(Selection::All).await;

    let report = engine.start_async(Selection::All).await;

    assert_eq!(report.moved, 1);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(engine.state(broken), Some(LifecycleState::Failed));
    let exit = &engine.exit_errors(broken)[0];
    assert_eq!(exit.operation, "Starting");
    assert!(
        exit.error_details
            .message
            .contains("no endpoint configured"),
        "{exit:?}"
    );
    assert_eq!(engine.state(fine), Some(LifecycleState::Running));
    engine.run_for_async(ms(15)).await;
    assert_eq!(times.of(fine), vec![0, 10]);
    assert!(times.of(broken).is_empty());
    engine.stop_async(Selection::All).await;
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_task_of_a_despawned_service_ends() {
    let mut engine = engine();
    let times = add_recorder(&mut engine, BackgroundTaskParams::every(ms(10)), 0);
    let ended = Arc::new(AtomicUsize::new(0));
    add_listener(&mut engine, ended.clone(), SharedLog::default());
    let gone = running(&mut engine).await;
    let kept = running(&mut engine).await;
    engine.run_for_async(ms(25)).await;
    assert_eq!(engine.background_tasks_alive(), 4);

    engine.world_mut().despawn(gone);
    engine.stop_async(Selection::All).await;

    assert_eq!(engine.state(kept), Some(LifecycleState::Stopped));
    assert_eq!(
        engine.background_tasks_alive(),
        0,
        "the despawned one's too"
    );
    engine.run_for_async(ms(50)).await;
    assert_eq!(times.of(gone), vec![0, 10, 20], "no run after despawn");
    assert_eq!(
        ended.load(Ordering::Relaxed),
        1,
        "only the stopped listener said goodbye"
    );
    assert!(engine.abandoned_background_tasks().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_interval_of_duration_max_means_never_again() {
    let mut engine = engine();
    let times = add_recorder(&mut engine, BackgroundTaskParams::every(Duration::MAX), 0);
    let delayed = add_recorder(
        &mut engine,
        BackgroundTaskParams::every(Duration::MAX)
            .immediate(false)
            .pacing(Pacing::FixedDelay),
        0,
    );
    let service = running(&mut engine).await;
    engine.run_for_async(ms(10_000)).await;
    assert_eq!(times.of(service), vec![0], "the immediate run only");
    assert!(delayed.of(service).is_empty(), "never due");
    engine.stop_async(service).await;
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_run_timeout_of_duration_max_never_expires() {
    let mut engine = engine();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("slow").timeout(Duration::MAX),
            BackgroundTaskParams::every(ms(10)),
            |_| (),
            move |_context: TaskContext| {
                let counter = counter.clone();
                async move {
                    tokio::time::sleep(ms(25)).await;
                    counter.fetch_add(1, Ordering::Relaxed);
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    let service = running(&mut engine).await;
    engine.run_for_async(ms(100)).await;
    assert_eq!(runs.load(Ordering::Relaxed), 3, "ends at 25, 55, 85");
    assert!(engine.failures().is_empty());
    engine.stop_async(service).await;
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_task_stop_timeout_of_duration_max_waits_as_long_as_it_takes() {
    let mut engine = Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .task_stop_timeout(Duration::MAX)
        .build();
    let ended = Arc::new(AtomicUsize::new(0));
    add_listener(&mut engine, ended.clone(), SharedLog::default());
    let service = running(&mut engine).await;
    engine.run_for_async(ms(10)).await;
    let stopping = Instant::now();
    engine.stop_async(service).await;
    assert_eq!(stopping.elapsed(), ms(3), "the listener's goodbye");
    assert_eq!(ended.load(Ordering::Relaxed), 1);
    assert_eq!(engine.background_tasks_alive(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_zero_interval_runs_every_millisecond() {
    let mut engine = engine();
    let runs_us = Times::default();
    let recorded = runs_us.clone();
    let origin = Instant::now();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("spin"),
            BackgroundTaskParams::every(Duration::ZERO),
            |_| (),
            move |context: TaskContext| {
                let at = origin.elapsed().as_micros() as u64;
                recorded.0.lock().unwrap().push((context.entity, at));
                std::future::ready(Ok::<(), HookError>(()))
            },
        )
        .unwrap();
    let service = running(&mut engine).await;
    tokio::task::yield_now().await;
    // Half a millisecond later the driver wakes (another service joins): not due yet.
    tokio::time::advance(Duration::from_micros(500)).await;
    let other = running(&mut engine).await;
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(runs_us.of(service), vec![0], "not due again at once");
    assert_eq!(runs_us.of(other), vec![500]);
    tokio::time::advance(Duration::from_micros(500)).await;
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        runs_us.of(service),
        vec![0, 1_000],
        "due 1 ms after its run"
    );
    engine.stop_async(Selection::All).await;
    assert_eq!(engine.background_tasks_alive(), 0);
}
