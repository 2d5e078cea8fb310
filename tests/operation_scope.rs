//! Named operation scopes (AIPerf's `try_operation_or_stop(name)`, §1.7): a step run under a name
//! of the user's choosing, in a sync hook, in a hook future, and around `initialize_and_start`
//! from user code. An error records exactly one exit error under that name (AIPerf records it
//! twice when the scope wraps a hook: once under the name, once under the phase title).

mod common;

use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;

#[derive(Debug, thiserror::Error)]
#[error("thing broke")]
struct ThingError;

/// An ON_INIT hook running, per target, a step named `operation` that fails for `failing`.
fn scoped_step(
    operation: &'static str,
    failing: Vec<Entity>,
) -> impl FnMut(Targets<Base>, ResMut<Log>) + Send + Sync + 'static {
    move |mut targets: Targets<Base>, mut log: ResMut<Log>| {
        targets.try_for_each(|entity, ()| {
            log.0.push(tag(operation, entity));
            try_operation(operation, || {
                if failing.contains(&entity) {
                    Err(ThingError)
                } else {
                    Ok(())
                }
            })
        });
    }
}

fn add_scoped_hook(
    engine: &mut Engine,
    hook_type: HookType,
    operation: &'static str,
    failing: Vec<Entity>,
) {
    engine
        .add_named_hook::<Base, _>(hook_type, "scoped", scoped_step(operation, failing))
        .unwrap();
}

#[test]
fn a_failing_scope_in_a_sync_hook_records_one_exit_error_under_its_name() {
    let mut engine = engine_with_log();
    let services = engine.spawn_batch(Base, 3);
    let broken = services[1];
    add_scoped_hook(
        &mut engine,
        HookType::OnInit,
        "Initialize Thing",
        vec![broken],
    );
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "close");

    let report = engine.initialize(Selection::All);

    assert_eq!(report.moved, 2);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].entity, broken);
    let errors = engine.exit_errors(broken);
    assert_eq!(errors.len(), 1, "recorded once: {errors:?}");
    assert_eq!(errors[0].operation, "Initialize Thing");
    assert_eq!(
        errors[0].error_details.error_type.as_deref(),
        Some("ThingError")
    );
    assert_eq!(errors[0].error_details.message, "thing broke");
    assert_eq!(
        errors[0].service_id,
        Some(engine.service_id(broken).unwrap().to_string())
    );
    // The fail path: stop hooks, then FAILED.
    assert_eq!(engine.state(broken), Some(LifecycleState::Failed));
    assert!(Log::take(engine.world_mut()).contains(&tag("close", broken)));
    let flags = engine.flags(broken).unwrap();
    assert!(flags.was_stopped() && !flags.was_initialized());
    for &other in [services[0], services[2]].iter() {
        assert_eq!(engine.state(other), Some(LifecycleState::Initialized));
        assert!(engine.exit_errors(other).is_empty());
    }
}

#[test]
fn multi_word_mixed_case_names_keep_their_case() {
    for name in ["Connect To DB", "warm up cache", "RegisterWithController"] {
        let mut engine = engine_with_log();
        let service = engine.spawn(Base);
        add_scoped_hook(&mut engine, HookType::OnStart, name, vec![service]);
        engine.initialize_and_start(service);
        let errors = engine.exit_errors(service);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].operation, name);
    }
}

#[test]
fn a_scoped_error_is_the_phases_one_exit_error_and_lists_the_other_failures() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Derived);
    add_failing_hook::<Base>(
        &mut engine,
        HookType::OnInit,
        "before",
        "one",
        vec![service],
    );
    add_scoped_hook(&mut engine, HookType::OnInit, "Load Model", vec![service]);
    add_failing_hook::<Base>(&mut engine, HookType::OnInit, "after", "two", vec![service]);

    let report = engine.initialize(service);

    assert_eq!(report.failed.len(), 1);
    let errors = engine.exit_errors(service);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].operation, "Load Model");
    assert_eq!(
        errors[0].error_details.error_type.as_deref(),
        Some("ThingError")
    );
    assert_eq!(
        errors[0].error_details.message,
        "thing broke; also failed: Derived.before: one,Derived.after: two"
    );
    // Every hook failure is still in the failures resource, the scoped one under its hook.
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 3);
    assert_eq!(failures[1].to_string(), "Derived.scoped: thing broke");
    assert_eq!(
        failures[1].error.operation_scope().unwrap().operation(),
        "Load Model"
    );
}

#[test]
fn the_first_of_two_scoped_errors_names_the_exit_error() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    add_scoped_hook(&mut engine, HookType::OnInit, "First Step", vec![service]);
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "second",
            scoped_step("Second Step", vec![service]),
        )
        .unwrap();
    engine.initialize(service);
    let errors = engine.exit_errors(service);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "First Step");
    assert_eq!(
        errors[0].error_details.message,
        "thing broke; also failed: Base.second: thing broke"
    );
}

#[test]
fn a_succeeding_scope_passes_its_value_through_and_records_nothing() {
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "parse",
            |mut targets: Targets<Base>, mut log: ResMut<Log>| {
                targets.try_for_each(|_, ()| {
                    let port = try_operation("Parse Port", || "8080".parse::<u16>())?;
                    log.0.push(port.to_string());
                    Ok::<(), HookError>(())
                });
            },
        )
        .unwrap();
    let service = engine.spawn(Base);
    let report = engine.initialize(service);
    assert_eq!(report.moved, 1);
    assert!(engine.exit_errors(service).is_empty());
    assert!(engine.failures().is_empty());
    assert_eq!(Log::take(engine.world_mut()), ["8080"]);
}

#[test]
fn nested_scopes_record_the_innermost_name_once() {
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "nested", |mut targets: Targets<Base>| {
            targets.try_for_each(|_, ()| {
                try_operation("Outer Step", || {
                    try_operation("Inner Step", || Err::<(), _>(ThingError))
                })
            });
        })
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize(service);
    let errors = engine.exit_errors(service);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Inner Step");
    assert_eq!(
        errors[0].error_details.error_type.as_deref(),
        Some("ThingError")
    );
}

#[test]
fn a_scope_in_a_stop_hook_fails_the_service_under_its_name() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    add_scoped_hook(
        &mut engine,
        HookType::OnStop,
        "Flush Records",
        vec![service],
    );
    engine.initialize_and_start(service);
    let report = engine.stop(service);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
    let errors = engine.exit_errors(service);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Flush Records");
}

#[test]
fn a_scope_in_a_state_change_hook_on_a_final_state_names_the_exit_error() {
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStateChange,
            "announce",
            |mut targets: Targets<Base>| {
                if targets.state_change().unwrap().new == LifecycleState::Running {
                    targets.try_for_each(|_, ()| {
                        try_operation("Announce Ready", || Err::<(), _>("bus down"))
                    });
                }
            },
        )
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize_and_start(service);
    let errors = engine.exit_errors(service);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Announce Ready");
    assert_eq!(errors[0].error_details.message, "bus down");
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
}

#[tokio::test(start_paused = true)]
async fn a_failing_scope_in_a_hook_future_records_one_exit_error_under_its_name() {
    let (mut engine, log) = engine_on_current_runtime();
    let services = engine.spawn_batch(Base, 2);
    let broken = services[0];
    engine
        .add_named_hook::<Base, _>(
            HookType::OnInit,
            "connect",
            move |mut targets: Targets<Base>, mut tasks: HookTasks, log: Res<SharedLog>| {
                targets.for_each(|entity, ()| {
                    let log = log.clone();
                    tasks.spawn(entity, async move {
                        let connected = try_operation_async("Open Socket", async {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            if entity == broken {
                                Err(std::io::Error::other("connection refused"))
                            } else {
                                Ok(entity)
                            }
                        })
                        .await?;
                        log.push(tag("connected", connected));
                        Ok::<(), HookError>(())
                    });
                });
            },
        )
        .unwrap();
    engine
        .add_named_hook::<Base, _>(HookType::OnStop, "close", sync_step("close"))
        .unwrap();

    let report = engine.initialize_async(Selection::All).await;

    assert_eq!(report.moved, 1);
    assert_eq!(report.failed.len(), 1);
    let errors = engine.exit_errors(broken);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].operation, "Open Socket");
    assert_eq!(errors[0].error_details.error_type.as_deref(), Some("Error"));
    assert_eq!(errors[0].error_details.message, "connection refused");
    assert_eq!(engine.state(broken), Some(LifecycleState::Failed));
    assert_eq!(
        log.lines(),
        [tag("connected", services[1]), tag("close", broken)]
    );
}

#[test]
fn an_engine_scope_around_initialize_and_start_records_on_its_owner() {
    let mut engine = engine_with_log();
    let controller = engine.spawn(Base);
    let proxies = engine.spawn(Base);
    engine.stop(proxies);

    let result = engine.try_operation(controller, "Start Proxy Manager", |engine| {
        engine.initialize_and_start(proxies).into_result()
    });

    let error = result.unwrap_err();
    assert_eq!(error.operation(), "Start Proxy Manager");
    assert_eq!(error.error_type(), "OperationFailedError");
    let refused = engine.exit_errors(proxies)[0].error_details.message.clone();
    assert!(refused.starts_with("Cannot initialize from state stopped for Base"));
    let errors = engine.exit_errors(controller);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Start Proxy Manager");
    assert_eq!(
        errors[0].error_details.error_type.as_deref(),
        Some("OperationFailedError")
    );
    assert_eq!(errors[0].error_details.message, refused);
    // The scope records and returns; it does not stop its owner (AIPerf's neither).
    assert_eq!(engine.state(controller), Some(LifecycleState::Created));
    assert_eq!(engine.exit_errors(proxies).len(), 1);
}

#[test]
fn an_engine_scope_records_once_for_an_owner_the_step_already_recorded() {
    let mut engine = engine_with_log();
    let stopped = engine.spawn(Base);
    let failing = engine.spawn(Base);
    let fine = engine.spawn(Base);
    add_failing_hook::<Base>(&mut engine, HookType::OnInit, "i", "boom", vec![failing]);
    engine.stop(stopped);
    let owners = vec![stopped, failing, fine];

    let result = engine.try_operation(owners.clone(), "Bring Up", |engine| {
        engine.initialize_and_start(owners).into_result()
    });

    assert!(result.is_err());
    let operations = |engine: &Engine, service| -> Vec<String> {
        engine
            .exit_errors(service)
            .iter()
            .map(|error| error.operation.clone())
            .collect()
    };
    assert_eq!(operations(&engine, stopped), ["Initialize"]);
    assert_eq!(operations(&engine, failing), ["Initializing"]);
    assert_eq!(
        operations(&engine, fine),
        ["Bring Up"],
        "an owner with no record of its own gets the scope's"
    );
}

#[test]
fn an_engine_scope_that_succeeds_returns_the_value_and_records_nothing() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    let moved = engine
        .try_operation(Selection::All, "Bring Up", |engine| {
            engine
                .initialize_and_start(service)
                .into_result()
                .map(|report| report.start.moved)
        })
        .unwrap();
    assert_eq!(moved, 1);
    assert!(engine.exit_errors(service).is_empty());
}

#[test]
fn an_engine_scope_over_all_services_records_on_each() {
    let mut engine = engine_with_log();
    let services = engine.spawn_batch(Base, 3);
    let result: Result<(), _> =
        engine.try_operation(Selection::All, "Check Config", |_| Err("missing key"));
    assert_eq!(result.unwrap_err().error_type(), "&str");
    for service in services {
        let errors = engine.exit_errors(service);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].operation, "Check Config");
        assert_eq!(errors[0].error_details.message, "missing key");
    }
}

#[tokio::test(start_paused = true)]
async fn an_async_engine_scope_awaits_its_step() {
    let (mut engine, _log) = engine_on_current_runtime();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStart,
            "warm_up",
            async_step("warm_up", Duration::from_secs(5), vec![]),
        )
        .unwrap();
    let controller = engine.spawn(Base);
    let workers = engine.spawn_batch(Base, 2);
    engine.stop(workers[1]);
    let started = tokio::time::Instant::now();

    let result = engine
        .try_operation_async(controller, "Start Workers", async |engine| {
            engine
                .initialize_and_start_async(workers.clone())
                .await
                .into_result()
        })
        .await;

    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "it awaited the hooks"
    );
    assert!(result.is_err());
    assert_eq!(engine.state(workers[0]), Some(LifecycleState::Running));
    assert_eq!(engine.exit_errors(controller)[0].operation, "Start Workers");
}
