//! Shutdown: a graceful stop within a budget; a hung stop hook or a second signal abandons what
//! is left, drops its futures and lists the services. Also the multi-thread runtime path (several
//! drivers share the futures). Paused clock where timing matters.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, Engine, HookConfig, TaskContext};

/// Sets its flag when dropped: proves a future was cancelled, not leaked.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// An ON_STOP hook whose future never finishes.
fn add_hanging_stop_hook(engine: &mut Engine, dropped: Arc<AtomicBool>) {
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStop,
            "flush_forever",
            move |mut targets: Targets<Base>, mut tasks: HookTasks| {
                targets.for_each(|entity, ()| {
                    let flag = DropFlag(dropped.clone());
                    tasks.spawn(entity, async move {
                        let _flag = flag;
                        std::future::pending::<()>().await;
                        Ok::<(), HookError>(())
                    });
                });
            },
        )
        .unwrap();
}

/// A multi-thread runtime with two workers: the engine then splits futures over two drivers.
fn two_worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_budget_that_runs_out_abandons_the_stop_and_lists_what_is_left() {
    let mut engine = engine_here();
    let dropped = Arc::new(AtomicBool::new(false));
    add_hanging_stop_hook(&mut engine, dropped.clone());
    let service = engine.spawn(Base);
    engine.initialize_async(service).await;

    let report = engine
        .shutdown(Duration::from_secs(2), std::future::pending())
        .await;

    assert!(report.aborted);
    assert!(report.stop.is_none());
    assert_eq!(report.unfinished, vec![service]);
    assert_eq!(report.elapsed, Duration::from_secs(2));
    tokio::task::yield_now().await;
    assert!(
        dropped.load(Ordering::SeqCst),
        "the hung future was dropped"
    );
    assert!(
        engine.running_hooks().snapshot().is_empty(),
        "nothing still listed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_second_signal_abandons_the_stop_at_once() {
    let mut engine = engine_here();
    let dropped = Arc::new(AtomicBool::new(false));
    add_hanging_stop_hook(&mut engine, dropped.clone());
    engine.spawn_batch(Base, 3);
    engine.initialize_async(Selection::All).await;

    let report = engine
        .shutdown(
            Duration::from_secs(10),
            tokio::time::sleep(Duration::from_millis(300)),
        )
        .await;

    assert!(report.aborted);
    assert_eq!(report.unfinished.len(), 3);
    assert_eq!(report.elapsed, Duration::from_millis(300));
}

#[test]
fn several_drivers_share_the_futures_on_a_multi_thread_runtime_and_lose_none() {
    let runtime = two_worker_runtime();
    let mut engine = Engine::builder()
        .runtime_handle(runtime.handle().clone())
        .max_in_flight(500)
        .build();
    let finished = Arc::new(AtomicUsize::new(0));
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "io",
            counted_io(finished.clone(), Duration::ZERO, |entity| {
                entity.index_u32() % 10 == 0
            }),
        )
        .unwrap();
    let services = engine.spawn_batch(Base, 5_000);
    let expected_failures = services
        .iter()
        .filter(|service| service.index_u32() % 10 == 0)
        .count();

    let report = engine.initialize(Selection::All);

    assert_eq!(
        finished.load(Ordering::Relaxed),
        5_000,
        "every future ran once"
    );
    assert_eq!(report.failed.len(), expected_failures);
    assert_eq!(report.moved + report.failed.len(), 5_000);
    assert_eq!(engine.failures().len(), expected_failures);
}

#[test]
fn async_background_tasks_are_awaited_on_a_multi_thread_runtime() {
    let runtime = two_worker_runtime();
    let mut engine = Engine::builder()
        .runtime_handle(runtime.handle().clone())
        .build();
    let ended = Arc::new(AtomicUsize::new(0));
    let counter = ended.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("listen"),
            BackgroundTaskParams::once(),
            |_| (),
            move |context: TaskContext| {
                let counter = counter.clone();
                async move {
                    context.cancelled().await;
                    counter.fetch_add(1, Ordering::Relaxed);
                    Ok::<(), HookError>(())
                }
            },
        )
        .unwrap();
    engine.spawn_batch(Base, 2_000);
    engine.initialize_and_start(Selection::All);
    engine.run_for(Duration::from_millis(20));
    assert_eq!(engine.background_tasks_alive(), 2_000);

    let report = engine.stop(Selection::All);

    assert_eq!(report.moved, 2_000);
    assert_eq!(
        ended.load(Ordering::Relaxed),
        2_000,
        "every run saw its cancellation"
    );
    assert_eq!(engine.background_tasks_alive(), 0);
}
