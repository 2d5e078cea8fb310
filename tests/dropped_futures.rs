//! Dropping an engine future mid-phase (a caller's `timeout`, a `select!`, a shutdown whose budget
//! ran out) leaves the engine consistent: later phases run every hook, and the services caught
//! mid-phase are finished by the next operation and listed once in its report. Paused clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{ABANDONED_ERROR_TYPE, Engine};

/// Asserts no entity is listed twice in `report`, across its lists.
fn assert_listed_once(report: &OperationReport) {
    let mut seen = std::collections::HashSet::new();
    let listed = report
        .cancelled
        .iter()
        .copied()
        .chain(report.ignored.iter().copied())
        .chain(report.invalid.iter().map(|error| error.entity))
        .chain(report.failed_entities())
        .chain(report.not_services.iter().copied())
        .chain(report.despawned.iter().copied());
    for entity in listed {
        assert!(seen.insert(entity), "{entity} is listed twice: {report:?}");
    }
}

/// How often each hook ran for `service`, in log order.
fn runs_of(log: &SharedLog, name: &str, service: Entity) -> usize {
    let wanted = tag(name, service);
    log.lines().iter().filter(|line| **line == wanted).count()
}

/// ON_INIT `open` (sync), `connect` (async, `delay`), `ready` (sync); ON_START `begin`; ON_STOP
/// `close`.
fn add_lifecycle_hooks(engine: &mut Engine, delay: Duration) {
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "open", sync_step("open"))
        .unwrap();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "connect",
            async_step("connect", delay, vec![]),
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "ready", sync_step("ready"))
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnStart, "begin", sync_step("begin"))
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "close", sync_step("close"))
        .unwrap();
}

/// Services whose ON_STOP `flush` future never finishes.
#[derive(Resource, Clone, Default)]
struct Hanging(Arc<std::sync::Mutex<Vec<Entity>>>);

/// An ON_STOP `flush` hook (async): hangs for the services in [`Hanging`], else logs at once.
fn flush(
    mut targets: Targets<Base>,
    mut tasks: HookTasks,
    log: Res<SharedLog>,
    hang: Res<Hanging>,
) {
    targets.for_each(|entity, ()| {
        let log = log.clone();
        let hangs = hang.0.lock().unwrap().contains(&entity);
        tasks.spawn(entity, async move {
            if hangs {
                std::future::pending::<()>().await;
            }
            log.push(tag("flush", entity));
            Ok::<(), HookError>(())
        });
    });
}

#[tokio::test(start_paused = true)]
async fn after_a_shutdown_runs_out_of_budget_a_new_service_runs_every_hook_once() {
    let (mut engine, log) = engine_on_current_runtime();
    let hanging = Hanging::default();
    engine.world_mut().insert_resource(hanging.clone());
    // ON_STOP runs in reverse: `close` (registered last) before `flush`.
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "flush", flush)
        .unwrap();
    add_lifecycle_hooks(&mut engine, Duration::from_millis(10));
    let old = engine.spawn(Base);
    hanging.0.lock().unwrap().push(old);
    engine.initialize_async(old).await;
    engine.start_async(old).await;

    let shutdown = engine
        .shutdown(Duration::from_secs(2), std::future::pending())
        .await;
    assert!(shutdown.aborted);
    assert_eq!(shutdown.unfinished, vec![old]);
    assert_eq!(
        runs_of(&log, "close", old),
        1,
        "close ran before flush hung"
    );

    let new = engine.spawn(Base);
    let init = engine.initialize_async(new).await;
    // The next operation finishes the service whose stop was abandoned: FAILED, listed once.
    assert_listed_once(&init);
    assert_eq!(init.moved, 1);
    assert_eq!(init.failed_entities().collect::<Vec<_>>(), vec![old]);
    assert_eq!(engine.state(old), Some(LifecycleState::Failed));
    let errors = engine.exit_errors(old);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Stopping");
    assert_eq!(
        errors[0].error_details.error_type.as_deref(),
        Some(ABANDONED_ERROR_TYPE)
    );
    let start = engine.start_async(new).await;
    assert_eq!(start.moved, 1);
    let stop = engine.stop_async(Selection::All).await;
    assert_listed_once(&stop);
    assert_eq!(stop.moved, 1, "{stop:?}");
    assert_eq!(stop.ignored, vec![old], "FAILED: stop is ignored");
    assert_eq!(engine.state(new), Some(LifecycleState::Stopped));

    for hook in ["open", "connect", "ready", "begin", "flush", "close"] {
        assert_eq!(runs_of(&log, hook, new), 1, "{hook} for the new service");
    }
    assert_eq!(
        runs_of(&log, "close", old),
        1,
        "the old stop hooks did not run again"
    );
    assert_eq!(runs_of(&log, "flush", old), 0);
    assert!(engine.running_hooks().snapshot().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_stop_hook_runs_for_new_services_after_a_dropped_stop() {
    // Only ON_STOP hooks: no other phase runs between the dropped stop and the next one.
    let (mut engine, log) = engine_on_current_runtime();
    let hanging = Hanging::default();
    engine.world_mut().insert_resource(hanging.clone());
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "flush", flush)
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "close", sync_step("close"))
        .unwrap();
    let old = engine.spawn(Base);
    hanging.0.lock().unwrap().push(old);
    let dropped = tokio::time::timeout(Duration::from_secs(1), engine.stop_async(old)).await;
    assert!(dropped.is_err(), "the stop hangs");

    let new = engine.spawn(Base);
    let stop = engine.stop_async(new).await;

    assert_listed_once(&stop);
    assert_eq!(stop.moved, 1);
    assert_eq!(stop.failed_entities().collect::<Vec<_>>(), vec![old]);
    assert_eq!(runs_of(&log, "flush", new), 1);
    assert_eq!(runs_of(&log, "close", new), 1);
    assert_eq!(
        runs_of(&log, "close", old),
        1,
        "not run again for the abandoned one"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_initialize_cancels_the_services_caught_mid_phase() {
    let (mut engine, log) = engine_on_current_runtime();
    add_lifecycle_hooks(&mut engine, Duration::from_secs(10));
    let caught = engine.spawn_batch(Base, 3);

    let dropped = tokio::time::timeout(
        Duration::from_secs(1),
        engine.initialize_async(Selection::All),
    )
    .await;
    assert!(dropped.is_err(), "the caller gave up");
    assert!(
        engine.running_hooks().snapshot().is_empty(),
        "futures dropped"
    );

    let new = engine.spawn(Base);
    let report = engine.initialize_async(Selection::All).await;

    assert_listed_once(&report);
    assert_eq!(report.moved, 1, "{report:?}");
    let mut cancelled = report.cancelled.clone();
    cancelled.sort();
    let mut expected = caught.clone();
    expected.sort();
    assert_eq!(
        cancelled, expected,
        "each caught service once, as cancelled"
    );
    assert!(report.failed.is_empty());
    assert!(report.ignored.is_empty());
    assert_eq!(engine.state(new), Some(LifecycleState::Initialized));
    for hook in ["open", "connect", "ready"] {
        assert_eq!(runs_of(&log, hook, new), 1, "{hook} for the new service");
    }
    for &service in &caught {
        assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
        assert!(engine.exit_errors(service).is_empty());
        assert_eq!(runs_of(&log, "open", service), 1);
        assert_eq!(
            runs_of(&log, "connect", service),
            0,
            "its future was dropped"
        );
        assert_eq!(
            runs_of(&log, "ready", service),
            0,
            "no later hook of the phase"
        );
        assert_eq!(runs_of(&log, "close", service), 1, "the stop path ran once");
    }
}

#[tokio::test(start_paused = true)]
async fn a_dropped_initialize_with_a_withdrawn_child_lists_the_tree_once() {
    let (mut engine, log) = engine_on_current_runtime();
    add_lifecycle_hooks(&mut engine, Duration::from_secs(10));
    let parent = engine.spawn(Derived);
    let children: Vec<Entity> = (0..3)
        .map(|_| engine.spawn_child(parent, Base).unwrap())
        .collect();
    let handle = engine.stop_handle();
    let leaving = children[1];
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        handle.stop(leaving);
    });

    let dropped =
        tokio::time::timeout(Duration::from_secs(1), engine.initialize_async(parent)).await;
    assert!(dropped.is_err());

    let report = engine.stop_async(Selection::All).await;

    assert_listed_once(&report);
    let mut cancelled = report.cancelled.clone();
    cancelled.sort();
    let mut tree = children.clone();
    tree.push(parent);
    tree.sort();
    assert_eq!(cancelled, tree, "{report:?}");
    assert_eq!(report.moved, 0);
    for &service in &tree {
        assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
        assert_eq!(runs_of(&log, "close", service), 1, "stopped once");
    }
    assert!(engine.pending_stops().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stop_finishes_the_children_it_had_not_reached() {
    let (mut engine, log) = engine_on_current_runtime();
    let hanging = Hanging::default();
    engine.world_mut().insert_resource(hanging.clone());
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "flush", flush)
        .unwrap();
    let parent = engine.spawn(Derived);
    let children: Vec<Entity> = (0..2)
        .map(|_| engine.spawn_child(parent, Base).unwrap())
        .collect();
    hanging.0.lock().unwrap().push(parent);
    engine.initialize_async(parent).await;
    engine.start_async(parent).await;

    let shutdown = engine
        .shutdown(Duration::from_secs(1), std::future::pending())
        .await;
    assert!(shutdown.aborted);
    assert_eq!(
        shutdown.unfinished.len(),
        3,
        "the children were not reached"
    );

    let report = engine.initialize_async(Selection::All).await;

    assert_listed_once(&report);
    assert_eq!(report.failed_entities().collect::<Vec<_>>(), vec![parent]);
    assert_eq!(engine.state(parent), Some(LifecycleState::Failed));
    for &child in &children {
        assert_eq!(engine.state(child), Some(LifecycleState::Stopped));
        assert_eq!(runs_of(&log, "flush", child), 1);
    }
}

/// A drop guard for a future: sets its flag when the future is dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_dropped_run_hooks_runs_every_hook_next_time() {
    let (mut engine, log) = engine_on_current_runtime();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    engine
        .add_named_hook::<Messaging, _>(
            HookType::OnMessage,
            "slow",
            move |mut targets: Targets<Messaging>, mut tasks: HookTasks, log: Res<SharedLog>| {
                targets.for_each(|entity, ()| {
                    let log = log.clone();
                    let guard = DropFlag(flag.clone());
                    tasks.spawn(entity, async move {
                        let _guard = guard;
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        log.push(tag("slow", entity));
                        Ok::<(), HookError>(())
                    });
                });
            },
        )
        .unwrap();
    engine
        .add_named_hook::<Messaging, _>(
            HookType::OnMessage,
            "after",
            |mut targets: Targets<Messaging>, log: Res<SharedLog>| {
                targets.for_each(|entity, ()| log.push(tag("after", entity)));
            },
        )
        .unwrap();
    let service = engine.spawn(Messaging);

    let first = tokio::time::timeout(
        Duration::from_secs(1),
        engine.run_hooks_async(HookType::OnMessage, service),
    )
    .await;
    assert!(first.is_err());
    tokio::task::yield_now().await;
    assert!(dropped.load(Ordering::SeqCst), "the future was cancelled");

    let failures = engine.run_hooks_async(HookType::OnMessage, service).await;
    assert!(failures.is_empty());
    assert_eq!(
        log.lines(),
        vec![tag("slow", service), tag("after", service)]
    );
}
