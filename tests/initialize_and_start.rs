//! `initialize_and_start` (AIPerf §1.6): a stop request that withdraws a service from the
//! initialize step is a cancellation, so the start step skips it and records nothing.

mod common;

use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;

/// An ON_INIT hook whose futures take 10 s, and an ON_START hook logging `start`.
fn add_slow_init_and_start(engine: &mut Engine) {
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "connect",
            async_step("connect", Duration::from_secs(10), vec![]),
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnStart, "start", sync_step("start"))
        .unwrap();
}

fn stop_later(handle: StopHandle, delay: Duration, service: Entity) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        handle.stop(service);
    });
}

fn assert_cancelled_not_failed(
    engine: &Engine,
    report: &lifecycle_ecs::InitializeAndStartReport,
    leaving: Entity,
    others: &[Entity],
    log: &SharedLog,
) {
    assert_eq!(report.initialize.cancelled, vec![leaving]);
    assert!(
        report.start.invalid.is_empty(),
        "the start step skipped it: {:?}",
        report.start.invalid
    );
    assert!(report.start.cancelled.is_empty());
    assert_eq!(report.start.moved, others.len());
    assert!(report.is_clean(), "a cancellation is not an error");
    assert_eq!(engine.state(leaving), Some(LifecycleState::Stopped));
    assert!(
        engine.exit_errors(leaving).is_empty(),
        "{:?}",
        engine.exit_errors(leaving)
    );
    let lines = log.lines();
    assert!(!lines.contains(&tag("start", leaving)));
    for &other in others {
        assert_eq!(engine.state(other), Some(LifecycleState::Running));
        assert!(lines.contains(&tag("start", other)));
        assert!(engine.exit_errors(other).is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_the_initialize_step_of_all_services_is_not_a_start_error() {
    let (mut engine, log) = engine_on_current_runtime();
    add_slow_init_and_start(&mut engine);
    let services = engine.spawn_batch(Base, 3);
    stop_later(engine.stop_handle(), Duration::from_secs(1), services[1]);

    let report = engine.initialize_and_start_async(Selection::All).await;

    assert_cancelled_not_failed(
        &engine,
        &report,
        services[1],
        &[services[0], services[2]],
        &log,
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_the_initialize_step_of_listed_services_is_not_a_start_error() {
    let (mut engine, log) = engine_on_current_runtime();
    add_slow_init_and_start(&mut engine);
    let services = engine.spawn_batch(Base, 3);
    stop_later(engine.stop_handle(), Duration::from_secs(1), services[0]);

    let report = engine.initialize_and_start_async(services.clone()).await;

    assert_cancelled_not_failed(
        &engine,
        &report,
        services[0],
        &[services[1], services[2]],
        &log,
    );
}

#[test]
fn a_service_asking_to_stop_during_its_initialize_is_not_started_and_not_failed() {
    // The blocking API on the engine's own runtime: the hook's future asks to stop its own
    // service, then waits for ever (it is cancelled).
    let mut engine = engine_with_log();
    let handle = engine.stop_handle();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "quit",
            move |mut targets: Targets<Base>, mut tasks: HookTasks| {
                targets.for_each(|entity, ()| {
                    let handle = handle.clone();
                    tasks.spawn(entity, async move {
                        handle.stop(entity);
                        std::future::pending::<Result<(), HookError>>().await
                    });
                });
            },
        )
        .unwrap();
    let service = engine.spawn(Base);

    let report = engine.initialize_and_start(service);

    assert_eq!(report.initialize.cancelled, vec![service]);
    assert!(report.start.invalid.is_empty());
    assert!(report.is_clean());
    assert!(report.into_result().is_ok());
    assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
    assert!(engine.exit_errors(service).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_stopped_child_of_a_cancelled_parent_is_not_started_either() {
    let (mut engine, log) = engine_on_current_runtime();
    add_slow_init_and_start(&mut engine);
    let parent = engine.spawn(Derived);
    let children: Vec<Entity> = (0..2)
        .map(|_| engine.spawn_child(parent, Base).unwrap())
        .collect();
    let handle = engine.stop_handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        handle.stop_all();
    });

    let report = engine.initialize_and_start_async(parent).await;

    assert_eq!(report.initialize.cancelled.len(), 3);
    assert!(report.is_clean(), "{:?}", report.start.invalid);
    for &service in children.iter().chain([&parent]) {
        assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
        assert!(engine.exit_errors(service).is_empty());
    }
    assert!(log.lines().iter().all(|line| !line.starts_with("start@")));
}
