//! A panic whose payload panics again when dropped (`panic_any(x)` with a loud `Drop`) fails the
//! service like any panic: the engine never drops such a payload on its own stack.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, HookConfig};

/// A panic payload whose `Drop` panics.
struct Loud;

impl Drop for Loud {
    fn drop(&mut self) {
        panic!("the payload panicked while being dropped");
    }
}

fn loud_panic() -> ! {
    std::panic::panic_any(Loud)
}

fn loud_system(mut targets: Targets<Base>) {
    targets.for_each(|_, ()| loud_panic());
}

fn assert_failed_with_payload(engine: &Engine, service: Entity) {
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
    let message = &engine.exit_errors(service)[0].error_details.message;
    assert!(message.contains("non-string panic payload"), "{message}");
}

#[test]
fn a_hook_system_with_a_loud_payload_fails_its_targets() {
    let mut engine = Engine::new();
    engine
        .add_hook::<Base, _>(HookType::OnInit, loud_system)
        .unwrap();
    let service = engine.spawn(Base);
    let report = engine.initialize(service);
    assert_eq!(report.failed.len(), 1);
    assert_failed_with_payload(&engine, service);
    // The engine goes on.
    let next = engine.spawn(Lifecycle);
    assert_eq!(engine.initialize(next).moved, 1);
}

#[test]
fn an_entity_hook_with_a_loud_payload_fails_only_that_service() {
    let mut engine = Engine::new();
    let bad = engine.spawn(Base);
    let good = engine.spawn(Base);
    engine
        .add_entity_hook::<Base, (), HookError, _>(HookType::OnInit, "loud", move |entity, ()| {
            if entity == bad {
                loud_panic();
            }
            Ok(())
        })
        .unwrap();
    let report = engine.initialize(Selection::All);
    assert_eq!(report.moved, 1);
    assert_failed_with_payload(&engine, bad);
    assert_eq!(engine.state(good), Some(LifecycleState::Initialized));
}

#[test]
fn an_attached_hook_with_a_loud_payload_fails_its_service() {
    let mut engine = Engine::new();
    let service = engine.spawn(Base);
    engine
        .attach_hook(service, HookType::OnInit, "loud", |_: In<Entity>| -> () {
            loud_panic()
        })
        .unwrap();
    engine.initialize(service);
    assert_failed_with_payload(&engine, service);
}

#[test]
fn an_async_hook_future_with_a_loud_payload_fails_its_service() {
    let mut engine = Engine::new();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "loud_future",
            |mut targets: Targets<Base>, mut tasks: HookTasks| {
                targets.for_each(|entity, ()| {
                    tasks.spawn(entity, async move {
                        tokio::task::yield_now().await;
                        if entity.index_u32() < u32::MAX {
                            loud_panic();
                        }
                        Ok::<(), HookError>(())
                    });
                });
            },
        )
        .unwrap();
    let services = engine.spawn_batch(Base, 3);
    let report = engine.initialize(Selection::All);
    assert_eq!(report.failed.len(), 3);
    for service in services {
        assert_failed_with_payload(&engine, service);
    }
}

#[test]
fn background_tasks_with_loud_payloads_record_failed_runs() {
    let mut engine = Engine::new();
    engine
        .add_background_task::<Base, _>(
            HookConfig::named("loud_batch"),
            BackgroundTaskParams::every(Duration::from_millis(5)),
            loud_system,
        )
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    engine
        .add_async_background_task::<Base, _, _>(
            HookConfig::named("loud_async"),
            BackgroundTaskParams::every(Duration::from_millis(5)),
            |_| (),
            move |_| {
                counted.fetch_add(1, Ordering::Relaxed);
                async { loud_panic() }
            },
        )
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize_and_start(service);
    engine.run_for(Duration::from_millis(20));
    let report = engine.stop(service);
    assert_eq!(report.moved, 1);
    assert!(
        runs.load(Ordering::Relaxed) >= 2,
        "the async task kept running"
    );
    let failures = engine.failures();
    let batch = failures
        .records()
        .iter()
        .filter(|failure| &*failure.hook == "loud_batch")
        .count();
    let asynchronous = failures
        .records()
        .iter()
        .filter(|failure| &*failure.hook == "loud_async")
        .count();
    assert!(batch >= 2 && asynchronous >= 2, "{batch} / {asynchronous}");
    assert!(failures.records().iter().all(|failure| matches!(
        &failure.error,
        HookError::Panicked(m) if m == "non-string panic payload"
    )));
}
