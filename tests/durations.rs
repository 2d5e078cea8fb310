//! Any duration up to `Duration::MAX` means "that long, or never": hook timeouts (per hook and the
//! engine's default, on the engine's own runtime and on the ambient one), the soft deadline,
//! `run_until`, `run_with_signals` and shutdown budgets neither panic nor kill a driver task.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{Engine, HookConfig, RunEnd};

/// Generous guard against a regression hanging the test binary (never reached when it works).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A virtual year. tokio clamps one sleep to about 2.2 years (its timer wheel's range), so a timer
/// armed for `Duration::MAX` (saturated to tokio's 30-year "far future") fires within three.
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// A hook whose future per target sleeps three virtual years, one at a time.
fn three_years(mut targets: Targets<Base>, mut tasks: HookTasks) {
    targets.for_each(|entity, ()| {
        tasks.spawn(entity, async {
            for _ in 0..3 {
                tokio::time::sleep(YEAR).await;
            }
            Ok::<(), HookError>(())
        });
    });
}

/// Runs `work` on another thread and returns its result, failing the test if it hangs.
fn within_guard<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver
        .recv_timeout(HANG_GUARD)
        .expect("the operation ended (no hang, no panic)")
}

#[test]
fn a_hook_timeout_of_duration_max_on_the_engines_own_runtime_is_no_timeout() {
    let state = within_guard(|| {
        let mut engine = Engine::new();
        engine.world_mut().insert_resource(SharedLog::default());
        let service = engine.spawn(Base);
        engine
            .add_hook_with::<Base, _>(
                HookType::OnInit,
                HookConfig::named("connect").timeout(Duration::MAX),
                async_step("connect", Duration::from_millis(1), vec![]),
            )
            .unwrap();
        let report = engine.initialize(service);
        assert!(report.failed.is_empty(), "{report:?}");
        engine.state(service)
    });
    assert_eq!(state, Some(LifecycleState::Initialized));
}

#[test]
fn an_engine_default_timeout_of_duration_max_on_its_own_runtime_is_no_timeout() {
    let state = within_guard(|| {
        let mut engine = Engine::builder().hook_timeout(Duration::MAX).build();
        engine.world_mut().insert_resource(SharedLog::default());
        let service = engine.spawn(Base);
        engine
            .add_named_hook::<Base, _>(
                HookType::OnStart,
                "connect",
                async_step("connect", Duration::from_millis(1), vec![]),
            )
            .unwrap();
        engine.initialize(service);
        engine.start(service);
        engine.state(service)
    });
    assert_eq!(state, Some(LifecycleState::Running));
}

#[tokio::test(start_paused = true)]
async fn a_hook_timeout_of_duration_max_on_the_ambient_runtime_waits_as_long_as_it_takes() {
    let (mut engine, _log) = engine_on_current_runtime();
    let service = engine.spawn(Base);
    engine
        .add_hook_with::<Base, _>(
            HookType::OnInit,
            HookConfig::named("slow").timeout(Duration::MAX),
            async_step("slow", Duration::from_secs(3600), vec![]),
        )
        .unwrap();
    let started = tokio::time::Instant::now();
    let report = tokio::time::timeout(YEAR, engine.initialize_async(service))
        .await
        .expect("the operation ends when its future does");
    assert!(report.failed.is_empty());
    assert_eq!(started.elapsed(), Duration::from_secs(3600));
    assert_eq!(engine.state(service), Some(LifecycleState::Initialized));
}

#[tokio::test(start_paused = true)]
async fn default_timeout_and_soft_deadline_of_duration_max_outlast_years() {
    let mut engine = Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .hook_timeout(Duration::MAX)
        .soft_deadline(Duration::MAX)
        .build();
    engine.world_mut().insert_resource(SharedLog::default());
    let service = engine.spawn(Base);
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "glacial", three_years)
        .unwrap();
    let started = tokio::time::Instant::now();
    let report = engine.initialize_async(service).await;
    assert!(report.failed.is_empty());
    assert_eq!(started.elapsed(), 3 * YEAR);
    assert_eq!(engine.state(service), Some(LifecycleState::Initialized));
}

#[tokio::test(start_paused = true)]
async fn run_until_duration_max_runs_until_the_shutdown_future() {
    let mut engine = engine_here();
    let service = engine.spawn(Lifecycle);
    engine.initialize_and_start_async(service).await;
    let started = tokio::time::Instant::now();
    let end = engine
        .run_until(Duration::MAX, tokio::time::sleep(Duration::from_secs(3600)))
        .await;
    assert_eq!(end, RunEnd::ShutdownRequested);
    assert_eq!(started.elapsed(), Duration::from_secs(3600));
    assert_eq!(engine.state(service), Some(LifecycleState::Running));
}

#[tokio::test(start_paused = true)]
async fn run_with_signals_takes_duration_max_for_its_limit_and_budget() {
    let mut engine = engine_here();
    let service = engine.spawn(Lifecycle);
    engine.initialize_and_start_async(service).await;
    engine.stop_handle().stop(service);
    let run = engine
        .run_with_signals(Some(Duration::MAX), Duration::MAX)
        .await;
    assert_eq!(run.end, RunEnd::AllEnded);
    assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_budget_of_duration_max_lets_the_stop_finish() {
    let (mut engine, _log) = engine_on_current_runtime();
    let service = engine.spawn(Base);
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStop,
            "drain",
            async_step("drain", Duration::from_secs(20), vec![]),
        )
        .unwrap();
    engine.initialize_and_start_async(service).await;
    let report = engine.shutdown(Duration::MAX, std::future::pending()).await;
    assert!(!report.aborted);
    assert!(report.unfinished.is_empty());
    assert_eq!(report.elapsed, Duration::from_secs(20));
    assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
}
