//! Criterion benches of background tasks, each beside hand-written tokio doing the same work.
//!
//! | group | what is timed | target |
//! |---|---|---|
//! | `background_rate/1k_10ms` | 1 000 services, a task every 10 ms each, until 100 runs per service were made (ideal: 1.000 s) | ≥ 99 % of ideal |
//! | `background_rate/100k_100ms` | 100 000 services, a task every 100 ms each, until 10 runs per service (ideal: 1.000 s) | ≥ 95 % of ideal |
//! | `background_stop/100k` | stopping 100 000 services whose async task is running: every task cancelled and awaited | ≤ 50 ms |
//!
//! A rate bench times how long the fleet takes to make the ideal number of runs, so the achieved
//! rate is `1.000 s / time` of the ideal (criterion's throughput line shows runs per second). The
//! first run of every task is one interval after start (`immediate(false)`), so the ideal is
//! exactly one second. Each engine side runs the real run loop ([`Engine::run`]) on the engine's
//! own current-thread runtime; the baselines run on a current-thread runtime too.
//!
//! Run with `CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench background`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use criterion::{Criterion, SamplingMode, Throughput};
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, HookConfig, RunEnd, TaskContext, service_kind};
use tokio_util::sync::CancellationToken;

/// The stop bench's fleet.
const STOP_FLEET: usize = 100_000;

service_kind! {
    /// The benched services.
    struct Ticker: Lifecycle
}

/// Runs counted by the batch task.
#[derive(Resource, Clone)]
struct Counter(Arc<AtomicU64>);

/// The batch task: one pass over every due service.
fn count_batch(mut targets: Targets<Ticker>, counter: Res<Counter>) {
    let mut runs = 0;
    targets.for_each(|_, ()| runs += 1);
    counter.0.fetch_add(runs, Ordering::Relaxed);
}

/// Resolves once `counter` reaches `target` (checked every 0.5 ms).
async fn reached(counter: Arc<AtomicU64>, target: u64) {
    while counter.load(Ordering::Relaxed) < target {
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// How a rate bench's engine side registers its task.
#[derive(Clone, Copy)]
enum Form {
    Batch,
    Async,
}

/// One engine run: start `services` ticking every `interval`, time until the ideal runs were made.
fn engine_rate(services: usize, interval: Duration, form: Form) -> Duration {
    let ideal_runs =
        services as u64 * (Duration::from_secs(1).as_nanos() / interval.as_nanos()) as u64;
    let counter = Arc::new(AtomicU64::new(0));
    let mut engine = Engine::new();
    let params = BackgroundTaskParams::every(interval).immediate(false);
    match form {
        Form::Batch => {
            engine.world_mut().insert_resource(Counter(counter.clone()));
            engine
                .add_background_task::<Ticker, _>(HookConfig::named("tick"), params, count_batch)
                .expect("every kind provides BACKGROUND_TASK");
        }
        Form::Async => {
            let runs = counter.clone();
            engine
                .add_async_background_task::<Ticker, _, _>(
                    HookConfig::named("tick"),
                    params,
                    |_| (),
                    move |_: TaskContext| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        std::future::ready(Ok::<(), HookError>(()))
                    },
                )
                .expect("every kind provides BACKGROUND_TASK");
        }
    }
    engine.spawn_batch(Ticker, services);
    engine.initialize(Selection::All);
    let started = Instant::now();
    engine.start(Selection::All);
    let runtime = engine.runtime();
    let end = runtime.block_on(engine.run(reached(counter, ideal_runs)));
    let elapsed = started.elapsed();
    assert_eq!(end, RunEnd::ShutdownRequested);
    engine.stop(Selection::All);
    elapsed
}

/// The baseline: a tokio task per service on an `interval` (missed ticks skipped).
fn baseline_rate(services: usize, interval: Duration) -> Duration {
    let ideal_runs =
        services as u64 * (Duration::from_secs(1).as_nanos() / interval.as_nanos()) as u64;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds");
    let counter = Arc::new(AtomicU64::new(0));
    runtime.block_on(async {
        let started = Instant::now();
        let first = tokio::time::Instant::now() + interval;
        let tasks: Vec<_> = (0..services)
            .map(|_| {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut ticks = tokio::time::interval_at(first, interval);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                    loop {
                        ticks.tick().await;
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        reached(counter.clone(), ideal_runs).await;
        let elapsed = started.elapsed();
        for task in tasks {
            task.abort();
        }
        elapsed
    })
}

fn bench_rate(c: &mut Criterion, name: &str, services: usize, interval: Duration) {
    let mut group = c.benchmark_group(format!("background_rate/{name}"));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(10));
    let runs = services as u64 * (Duration::from_secs(1).as_nanos() / interval.as_nanos()) as u64;
    group.throughput(Throughput::Elements(runs));
    for (label, form) in [("engine_batch", Form::Batch), ("engine_async", Form::Async)] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| engine_rate(services, interval, form))
                    .sum()
            });
        });
    }
    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| baseline_rate(services, interval)).sum());
    });
    group.finish();
}

/// A fleet of [`STOP_FLEET`] services whose async task is in the middle of a run that lasts until
/// its service stops (a listener), or (`listening == false`) waits for its next heartbeat.
fn stop_fleet(listening: bool) -> Engine {
    let mut engine = Engine::new();
    let params = if listening {
        BackgroundTaskParams::once()
    } else {
        BackgroundTaskParams::every(Duration::from_millis(100))
    };
    engine
        .add_async_background_task::<Ticker, _, _>(
            HookConfig::named("listen"),
            params,
            |_| (),
            move |context: TaskContext| async move {
                if listening {
                    context.cancelled().await;
                }
                Ok::<(), HookError>(())
            },
        )
        .expect("every kind provides BACKGROUND_TASK");
    engine.spawn_batch(Ticker, STOP_FLEET);
    engine.initialize_and_start(Selection::All);
    // Let every task make its first run (the listeners then wait inside it).
    engine.run_for(Duration::from_millis(5));
    assert_eq!(engine.background_tasks_alive(), STOP_FLEET);
    engine
}

fn bench_stop(c: &mut Criterion) {
    let mut group = c.benchmark_group("background_stop/100k");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    for (label, listening) in [("engine_running", true), ("engine_waiting", false)] {
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut engine = stop_fleet(listening);
                    let started = Instant::now();
                    let report = engine.stop(Selection::All);
                    total += started.elapsed();
                    assert_eq!(report.moved, STOP_FLEET);
                    assert_eq!(engine.background_tasks_alive(), 0, "every task ended");
                }
                total
            });
        });
    }
    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime builds");
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += runtime.block_on(async {
                    let tasks: Vec<_> = (0..STOP_FLEET)
                        .map(|_| {
                            let token = CancellationToken::new();
                            let cancelled = token.clone();
                            (
                                token,
                                tokio::spawn(async move { cancelled.cancelled().await }),
                            )
                        })
                        .collect();
                    tokio::task::yield_now().await;
                    let started = Instant::now();
                    for (token, _) in &tasks {
                        token.cancel();
                    }
                    for (_, task) in tasks {
                        task.await.expect("the task ends");
                    }
                    started.elapsed()
                });
            }
            total
        });
    });
    group.finish();
}

/// Runs every group (written out instead of `criterion_main!`, so the entry point is documented).
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_rate(&mut criterion, "1k_10ms", 1_000, Duration::from_millis(10));
    bench_rate(
        &mut criterion,
        "100k_100ms",
        100_000,
        Duration::from_millis(100),
    );
    bench_stop(&mut criterion);
    criterion.final_summary();
}
