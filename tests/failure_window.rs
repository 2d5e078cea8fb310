//! `HookFailures` keeps a bounded window of failure records with exact counts, and the fail path
//! never depends on the window.

mod common;

use std::time::Duration;

use bevy_ecs::prelude::*;
use common::{Base, Derived};
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, DEFAULT_FAILURE_WINDOW, FailureTotal, KindId};

/// A batch background task that fails for every due service.
fn always_failing(mut targets: Targets<Base>) {
    targets.try_for_each(|_, ()| Err::<(), _>("endpoint down"));
}

fn set_window(engine: &mut Engine, window: usize) {
    engine
        .world_mut()
        .resource_mut::<HookFailures>()
        .set_window(window);
}

#[tokio::test(start_paused = true)]
async fn a_failing_background_task_keeps_only_the_default_window_of_records() {
    let mut engine = Engine::new();
    engine
        .add_background_task::<Base, _>(
            HookConfig::named("probe"),
            BackgroundTaskParams::every(Duration::from_millis(1)),
            always_failing,
        )
        .unwrap();
    engine.spawn_batch(Base, 10_000);
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    let ticks = engine.run_for_async(Duration::from_millis(5)).await;
    let runs = ticks.runs;
    assert_eq!(runs, 50_000, "runs at 0, 1, 2, 3 and 4 ms");
    assert_eq!(ticks.failed, runs);

    let failures = engine.failures();
    assert_eq!(failures.window(), DEFAULT_FAILURE_WINDOW);
    assert_eq!(failures.len(), DEFAULT_FAILURE_WINDOW);
    assert_eq!(failures.records().len(), DEFAULT_FAILURE_WINDOW);
    assert_eq!(failures.total(), runs);
    assert_eq!(failures.dropped(), runs - DEFAULT_FAILURE_WINDOW);
    let base = engine.failures().records()[0].kind();
    assert_eq!(
        engine.failures().totals(),
        [FailureTotal {
            kind: base,
            hook_type: HookType::BackgroundTask,
            hook: "probe".into(),
            count: runs,
        }]
    );
    assert_eq!(
        engine
            .failures()
            .total_of(base, HookType::BackgroundTask, "probe"),
        runs
    );
    assert!(
        engine
            .failures()
            .records()
            .iter()
            .all(|failure| failure.to_string() == "Base.probe: endpoint down")
    );
}

#[test]
fn a_phase_failing_more_services_than_the_window_fails_exactly_those() {
    let mut engine = Engine::new();
    set_window(&mut engine, 100);
    engine
        .add_entity_hook::<Base, Entity, _, _>(HookType::OnInit, "flaky", |_, entity| {
            if entity.index_u32() % 2 == 0 {
                Err("flaky")
            } else {
                Ok(())
            }
        })
        .unwrap();
    let services = engine.spawn_batch(Base, 10_000);
    let failing: Vec<Entity> = services
        .iter()
        .copied()
        .filter(|entity| entity.index_u32() % 2 == 0)
        .collect();
    let report = engine.initialize(Selection::All);

    assert_eq!(report.failed_entities().collect::<Vec<_>>(), failing);
    assert_eq!(report.moved, services.len() - failing.len());
    for &entity in &failing {
        assert_eq!(engine.state(entity), Some(LifecycleState::Failed));
        let errors = engine.exit_errors(entity);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].error_details.message, "Base.flaky: flaky");
        assert_eq!(errors[0].operation, "Initializing");
    }
    let failures = engine.failures();
    assert_eq!(failures.total(), failing.len());
    assert_eq!(
        failures.len(),
        100,
        "the window applies once the operation ended"
    );
    let latest: Vec<Entity> = failures.records().iter().map(|f| f.entity).collect();
    assert_eq!(latest, failing[failing.len() - 100..]);
}

#[test]
fn children_failing_beyond_the_window_still_fail_their_parents() {
    let mut engine = Engine::new();
    set_window(&mut engine, 10);
    engine
        .add_entity_hook::<Derived, (), _, _>(HookType::OnInit, "child_init", |_, ()| {
            Err::<(), _>("child refused")
        })
        .unwrap();
    let parents = engine.spawn_batch(Base, 200);
    let children = engine
        .spawn_children_with(&parents, Derived, 1, |_| ())
        .unwrap();
    let report = engine.initialize(Selection::All);

    assert_eq!(report.failed.len(), 400);
    for (&parent, &child) in parents.iter().zip(&children) {
        assert_eq!(engine.state(child), Some(LifecycleState::Failed));
        assert_eq!(engine.state(parent), Some(LifecycleState::Failed));
        let message = &engine.exit_errors(parent)[0].error_details.message;
        assert!(
            message.starts_with("Base.initialize_children:"),
            "{message}"
        );
    }
    let failures = engine.failures();
    assert_eq!(failures.total(), 400);
    assert_eq!(failures.len(), 10);
    assert_eq!(
        failures.total_of(KindId::ROOT, HookType::OnInit, "child_init"),
        0,
        "counted under the service's own kind"
    );
    let derived = engine.register_kind::<Derived>().unwrap();
    let base = engine.register_kind::<Base>().unwrap();
    let failures = engine.failures();
    assert_eq!(
        failures.total_of(derived, HookType::OnInit, "child_init"),
        200
    );
    assert_eq!(
        failures.total_of(base, HookType::OnInit, "initialize_children"),
        200
    );
}

#[derive(Resource, Default)]
struct Runs(usize);

fn failing_and_counted(mut targets: Targets<Base>, mut runs: ResMut<Runs>) {
    targets.try_for_each(|_, ()| {
        runs.0 += 1;
        Err::<(), _>("broken")
    });
}

#[tokio::test(start_paused = true)]
async fn stop_on_error_sees_every_failure_of_a_tick_beyond_the_window() {
    let mut engine = Engine::new();
    set_window(&mut engine, 10);
    engine.world_mut().init_resource::<Runs>();
    engine
        .add_background_task::<Base, _>(
            HookConfig::named("once_broken"),
            BackgroundTaskParams::every(Duration::from_millis(1)).stop_on_error(true),
            failing_and_counted,
        )
        .unwrap();
    engine.spawn_batch(Base, 500);
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    let ticks = engine.run_for_async(Duration::from_millis(10)).await;
    assert_eq!(ticks.failed, 500);
    assert_eq!(
        engine.world().resource::<Runs>().0,
        500,
        "every failed service's task stopped after its first run"
    );
    assert_eq!(engine.background_timers(), 0);
    assert_eq!(engine.failures().total(), 500);
}

#[test]
fn run_hooks_returns_every_failure_beyond_the_window() {
    let mut engine = Engine::new();
    set_window(&mut engine, 5);
    engine
        .add_entity_hook::<Lifecycle, (), _, _>(HookType::OnInit, "check", |_, ()| {
            Err::<(), _>("no")
        })
        .unwrap();
    engine.spawn_batch(Lifecycle, 50);
    let failures = engine.run_hooks(HookType::OnInit, Selection::All);
    assert_eq!(failures.len(), 50);
    assert_eq!(engine.failures().len(), 5);
    assert_eq!(engine.failures().total(), 50);
}

#[test]
fn clear_forgets_the_records_and_keeps_the_counts() {
    let mut engine = Engine::new();
    engine
        .add_entity_hook::<Lifecycle, (), _, _>(HookType::OnInit, "check", |_, ()| {
            Err::<(), _>("no")
        })
        .unwrap();
    engine.spawn_batch(Lifecycle, 3);
    engine.initialize(Selection::All);
    let failures = engine
        .world_mut()
        .resource_mut::<HookFailures>()
        .into_inner();
    failures.clear();
    assert!(failures.is_empty());
    assert_eq!((failures.total(), failures.dropped()), (3, 3));
    assert_eq!(failures.totals()[0].count, 3);
}
