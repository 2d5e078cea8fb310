//! Async hooks: futures handed to tokio count like sync hook results, keep hook order, are capped
//! in flight, time out, and report panics. Timing runs on tokio's paused clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{Engine, HookConfig};

#[tokio::test(start_paused = true)]
async fn a_later_hook_starts_only_after_the_earlier_hooks_futures_finished() {
    let (mut engine, log) = engine_on_current_runtime();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "a", sync_step("a"))
        .unwrap();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "b",
            async_step("b", Duration::from_millis(50), vec![]),
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "c", sync_step("c"))
        .unwrap();
    let services = engine.spawn_batch(Base, 3);
    let started = tokio::time::Instant::now();
    let report = engine.initialize_async(Selection::All).await;
    assert_eq!(report.moved, 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(50),
        "virtual time: one barrier of 50 ms"
    );
    let lines = log.take();
    let position = |line: String| lines.iter().position(|l| *l == line).unwrap();
    for &s in &services {
        assert!(position(tag("a", s)) < position(tag("b", s)));
        assert!(position(tag("b", s)) < position(tag("c", s)), "{lines:?}");
    }
    assert!(
        services
            .iter()
            .all(|&s| engine.state(s) == Some(LifecycleState::Initialized))
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_future_fails_its_service_like_a_sync_hook() {
    let (mut engine, _log) = engine_on_current_runtime();
    let services = engine.spawn_batch(Base, 4);
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStart,
            "connect",
            async_step("connect", Duration::from_millis(5), vec![services[2]]),
        )
        .unwrap();
    engine.initialize_async(Selection::All).await;
    let report = engine.start_async(Selection::All).await;
    assert_eq!(report.moved, 3);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(engine.state(services[2]), Some(LifecycleState::Failed));
    let error = &engine.exit_errors(services[2])[0];
    assert_eq!(error.operation, "Starting");
    assert_eq!(error.error_details.message, "Base.connect: socket closed");
}

#[tokio::test(start_paused = true)]
async fn a_future_that_outlives_its_timeout_fails_with_timed_out() {
    let (mut engine, _log) = engine_on_current_runtime();
    let service = engine.spawn(Base);
    engine
        .add_hook_with::<Base, _>(
            HookType::OnInit,
            HookConfig::named("handshake").timeout(Duration::from_secs(5)),
            async_step("handshake", Duration::from_secs(3600), vec![]),
        )
        .unwrap();
    let started = tokio::time::Instant::now();
    let report = engine.initialize_async(service).await;
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(report.failed.len(), 1);
    assert_eq!(
        engine.exit_errors(service)[0].error_details.message,
        "Base.handshake: timed out after 5.000s"
    );
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
}

#[tokio::test(start_paused = true)]
async fn the_engine_default_timeout_applies_to_hooks_without_their_own() {
    let mut engine = Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .hook_timeout(Duration::from_millis(250))
        .build();
    engine.world_mut().insert_resource(SharedLog::default());
    let service = engine.spawn(Base);
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "slow",
            async_step("slow", Duration::from_secs(1), vec![]),
        )
        .unwrap();
    engine.initialize_async(service).await;
    assert!(
        engine.exit_errors(service)[0]
            .error_details
            .message
            .ends_with("timed out after 0.250s")
    );
}

fn panicking_future(mut targets: Targets<Base>, mut tasks: HookTasks) {
    targets.for_each(|entity, ()| {
        tasks.spawn(entity, async move {
            tokio::task::yield_now().await;
            if entity.index_u32() < u32::MAX {
                panic!("future exploded");
            }
            Ok::<(), HookError>(())
        });
    });
}

#[tokio::test(start_paused = true)]
async fn a_panicking_future_fails_its_service_with_the_message() {
    let (mut engine, _log) = engine_on_current_runtime();
    engine
        .add_hook::<Base, _>(HookType::OnInit, panicking_future)
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize_async(service).await;
    assert_eq!(
        engine.exit_errors(service)[0].error_details.message,
        "Base.panicking_future: panicked: future exploded"
    );
}

#[derive(Resource, Clone, Default)]
struct Concurrency {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
}

fn measured_future(mut targets: Targets<Base>, mut tasks: HookTasks, gauge: Res<Concurrency>) {
    targets.for_each(|entity, ()| {
        let gauge = gauge.clone();
        tasks.spawn(entity, async move {
            let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            gauge.done.fetch_add(1, Ordering::SeqCst);
            Ok::<(), HookError>(())
        });
    });
}

#[tokio::test(start_paused = true)]
async fn futures_in_flight_are_capped_and_none_is_lost() {
    let mut engine = Engine::builder()
        .runtime_handle(tokio::runtime::Handle::current())
        .max_in_flight(8)
        .build();
    let gauge = Concurrency::default();
    engine.world_mut().insert_resource(gauge.clone());
    engine
        .add_hook::<Base, _>(HookType::OnInit, measured_future)
        .unwrap();
    engine.spawn_batch(Base, 100);
    let report = engine.initialize_async(Selection::All).await;
    assert_eq!(report.moved, 100);
    assert_eq!(gauge.done.load(Ordering::SeqCst), 100);
    assert_eq!(gauge.peak.load(Ordering::SeqCst), 8);
}

#[test]
fn the_blocking_api_drives_async_hooks_on_the_engines_own_runtime() {
    let mut engine = Engine::new();
    let log = SharedLog::default();
    engine.world_mut().insert_resource(log.clone());
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "io",
            async_step("io", Duration::from_millis(1), vec![]),
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "after", sync_step("after"))
        .unwrap();
    let service = engine.spawn(Base);
    let report = engine.initialize(service);
    assert_eq!(report.moved, 1);
    assert_eq!(log.take(), vec![tag("io", service), tag("after", service)]);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_sees_the_state_its_service_reaches() {
    let (mut engine, _log) = engine_on_current_runtime();
    add_async_io(&mut engine);
    let service = engine.spawn(Base);
    let mut watch = engine.watch(service).unwrap();
    let waiter = tokio::spawn(async move { watch.wait_until(LifecycleState::Running).await });
    engine.initialize_async(service).await;
    assert!(!waiter.is_finished());
    engine.start_async(service).await;
    assert_eq!(waiter.await.unwrap(), Ok(()));
    // A completed phase stays reached, like AIPerf's events.
    let mut late = engine.watch(service).unwrap();
    assert_eq!(late.wait_until(LifecycleState::Initialized).await, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_gets_an_error_when_its_service_fails_or_stops_instead() {
    let (mut engine, _log) = engine_on_current_runtime();
    let failing = engine.spawn(Base);
    let stopped = engine.spawn(Base);
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "io",
            async_step("io", Duration::from_millis(5), vec![failing]),
        )
        .unwrap();
    let mut failing_watch = engine.watch(failing).unwrap();
    let mut stopped_watch = engine.watch(stopped).unwrap();
    let failed =
        tokio::spawn(async move { failing_watch.wait_until(LifecycleState::Running).await });
    let never =
        tokio::spawn(async move { stopped_watch.wait_until(LifecycleState::Running).await });
    engine.initialize_async(failing).await;
    engine.stop_async(stopped).await;
    assert!(matches!(
        failed.await.unwrap(),
        Err(lifecycle_ecs::WaitError::Failed { .. })
    ));
    assert!(matches!(
        never.await.unwrap(),
        Err(lifecycle_ecs::WaitError::Unreachable { .. })
    ));
}

fn add_async_io(engine: &mut Engine) {
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStart,
            "io",
            async_step("io", Duration::from_millis(5), vec![]),
        )
        .unwrap();
}
