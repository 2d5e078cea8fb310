//! Collect-all, the fail path and exit errors (AIPerf §1.8, §3).

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;

fn with_state_log(engine: &mut Engine) {
    engine
        .add_named_hook::<Lifecycle, _>(HookType::OnStateChange, "log_state", state_change_logger)
        .unwrap();
}

fn changes(log: &[String], entity: Entity) -> Vec<String> {
    let prefix = format!("{}:", entity.index_u32());
    log.iter()
        .filter_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

#[test]
fn every_hook_of_a_phase_runs_even_after_one_fails() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    let ok = engine.spawn(Base);
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "i1");
    add_failing_hook::<Base>(
        &mut engine,
        HookType::OnInit,
        "i2",
        "boom-init",
        vec![service],
    );
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "i3");
    let report = engine.initialize(Selection::All);
    let log = Log::take(engine.world_mut());
    assert!(log.contains(&tag("i3", service)), "{log:?}");
    assert_eq!(report.moved, 1);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].entity, service);
    assert_eq!(engine.state(ok), Some(LifecycleState::Initialized));
    let errors = engine.exit_errors(service);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Initializing");
    assert_eq!(
        errors[0].error_details.error_type.as_deref(),
        Some("HookErrors")
    );
    assert_eq!(errors[0].error_details.message, "Base.i2: boom-init");
    assert_eq!(
        errors[0].service_id,
        Some(engine.service_id(service).unwrap().to_string())
    );
}

#[test]
fn several_failed_hooks_join_into_one_exit_error_named_after_the_services_own_kind() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Derived);
    add_failing_hook::<Base>(&mut engine, HookType::OnStart, "f1", "one", vec![service]);
    add_failing_hook::<Derived>(&mut engine, HookType::OnStart, "f2", "'two'", vec![service]);
    engine.initialize(service);
    engine.start(service);
    let errors = engine.exit_errors(service);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Starting");
    assert_eq!(
        errors[0].error_details.message,
        "Derived.f1: one,Derived.f2: 'two'"
    );
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 2);
    assert_eq!(
        (&*failures[0].hook, failures[0].kind().name()),
        ("f1", "Derived")
    );
}

#[test]
fn a_failed_init_stops_the_service_then_fails_it() {
    let mut engine = engine_with_log();
    with_state_log(&mut engine);
    let service = engine.spawn(Base);
    add_failing_hook::<Base>(
        &mut engine,
        HookType::OnInit,
        "i1",
        "boom-init",
        vec![service],
    );
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "s1");
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "s2");
    engine.initialize(service);
    let log = Log::take(engine.world_mut());
    assert_eq!(
        changes(&log, service),
        [
            "created->initializing",
            "initializing->stopping",
            "stopping->stopped",
            "stopped->failed"
        ]
    );
    let hooks: Vec<&String> = log.iter().filter(|line| line.contains('@')).collect();
    assert_eq!(
        hooks,
        [
            &tag("i1", service),
            &tag("s2", service),
            &tag("s1", service)
        ]
    );
    let flags = engine.flags(service).unwrap();
    assert!(!flags.was_initialized() && flags.was_stopped() && flags.stop_requested());
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
    // FAILED is terminal: stop is ignored, initialize refused.
    assert_eq!(engine.stop(service).ignored, vec![service]);
    assert_eq!(engine.initialize(service).invalid.len(), 1);
}

#[test]
fn a_failed_start_takes_the_same_path_from_starting() {
    let mut engine = engine_with_log();
    with_state_log(&mut engine);
    let service = engine.spawn(Base);
    add_failing_hook::<Base>(&mut engine, HookType::OnStart, "st", "no", vec![service]);
    engine.initialize_and_start(service);
    let log = Log::take(engine.world_mut());
    assert_eq!(
        changes(&log, service)[2..],
        [
            "initialized->starting",
            "starting->stopping",
            "stopping->stopped",
            "stopped->failed"
        ]
    );
    let flags = engine.flags(service).unwrap();
    assert!(flags.was_initialized() && !flags.was_started() && flags.was_stopped());
}

#[test]
fn a_failed_stop_hook_ends_failed_without_stopped() {
    let mut engine = engine_with_log();
    with_state_log(&mut engine);
    let service = engine.spawn(Base);
    add_failing_hook::<Base>(&mut engine, HookType::OnStop, "s1", "stuck", vec![service]);
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "s2");
    engine.initialize_and_start(service);
    Log::take(engine.world_mut());
    let report = engine.stop(service);
    let log = Log::take(engine.world_mut());
    assert!(log.contains(&tag("s1", service)) && log.contains(&tag("s2", service)));
    assert_eq!(
        changes(&log, service),
        ["running->stopping", "stopping->failed"]
    );
    assert!(!engine.flags(service).unwrap().was_stopped());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(engine.exit_errors(service)[0].operation, "Stopping");
}

#[test]
fn an_init_failure_and_a_stop_failure_give_two_exit_errors() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    add_failing_hook::<Base>(&mut engine, HookType::OnInit, "i", "a", vec![service]);
    add_failing_hook::<Base>(&mut engine, HookType::OnStop, "s", "b", vec![service]);
    let report = engine.initialize(service);
    let operations: Vec<&str> = engine
        .exit_errors(service)
        .iter()
        .map(|e| e.operation.as_str())
        .collect();
    assert_eq!(operations, ["Initializing", "Stopping"]);
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
    assert!(!engine.flags(service).unwrap().was_stopped());
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].exit_errors.len(), 2);
}

fn panicking_init(mut targets: Targets<Base>) {
    targets.for_each(|_, ()| panic!("kaboom"));
}

#[test]
fn a_panicking_hook_fails_its_targets_and_the_engine_keeps_running() {
    let mut engine = engine_with_log();
    engine
        .add_hook::<Base, _>(HookType::OnInit, panicking_init)
        .unwrap();
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "after");
    let services = engine.spawn_batch(Base, 3);
    let others = engine.spawn_batch(Derived, 0);
    assert!(others.is_empty());
    let report = engine.initialize(Selection::All);
    assert_eq!(report.failed.len(), 3);
    assert_eq!(
        Log::take(engine.world_mut()).len(),
        3,
        "the next hook still ran"
    );
    for &service in &services {
        assert_eq!(engine.state(service), Some(LifecycleState::Failed));
        let message = &engine.exit_errors(service)[0].error_details.message;
        assert_eq!(message, "Base.panicking_init: panicked: kaboom");
    }
    // The engine is still usable.
    let fresh = engine.spawn(Lifecycle);
    assert_eq!(engine.initialize(fresh).moved, 1);
}

fn whole_system_error(_targets: Targets<Base>) -> Result<(), BevyError> {
    Err("database offline".into())
}

#[test]
fn a_hook_system_returning_err_fails_all_its_targets() {
    let mut engine = engine_with_log();
    engine
        .add_hook::<Base, _>(HookType::OnInit, whole_system_error)
        .unwrap();
    let services = engine.spawn_batch(Base, 2);
    let bystander = engine.spawn(Lifecycle);
    let report = engine.initialize(Selection::All);
    assert_eq!(report.failed.len(), 2);
    assert_eq!(engine.state(bystander), Some(LifecycleState::Initialized));
    assert!(
        engine.exit_errors(services[1])[0]
            .error_details
            .message
            .starts_with("Base.whole_system_error: database offline")
    );
}

fn fail_on_entering(state: LifecycleState) -> impl FnMut(Targets<Base>) + Send + Sync + 'static {
    move |mut targets: Targets<Base>| {
        if targets.state_change().unwrap().new == state {
            targets.try_for_each(|_, ()| Err(format!("refuse {state}")));
        }
    }
}

#[test]
fn a_state_change_hook_failing_on_a_transient_state_fails_that_phase() {
    let mut engine = engine_with_log();
    with_state_log(&mut engine);
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStateChange,
            "guard",
            fail_on_entering(LifecycleState::Initializing),
        )
        .unwrap();
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "i");
    let service = engine.spawn(Base);
    engine.initialize(service);
    let log = Log::take(engine.world_mut());
    assert!(
        log.contains(&tag("i", service)),
        "the phase's hooks still ran"
    );
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
    let error = &engine.exit_errors(service)[0];
    assert_eq!(
        (
            error.operation.as_str(),
            error.error_details.message.as_str()
        ),
        ("Initializing", "Base.guard: refuse initializing")
    );
}

#[test]
fn a_state_change_hook_failing_on_the_final_state_takes_the_fail_path() {
    let mut engine = engine_with_log();
    with_state_log(&mut engine);
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStateChange,
            "guard",
            fail_on_entering(LifecycleState::Running),
        )
        .unwrap();
    let service = engine.spawn(Base);
    let report = engine.initialize_and_start(service);
    assert_eq!(report.start.moved, 0);
    assert_eq!(report.start.failed.len(), 1);
    let log = Log::take(engine.world_mut());
    assert_eq!(
        changes(&log, service)[2..],
        [
            "initialized->starting",
            "starting->running",
            "running->stopping",
            "stopping->stopped",
            "stopped->failed"
        ]
    );
    assert!(!engine.flags(service).unwrap().was_started());
    // AIPerf's `fail()` records the state at the time of failure: RUNNING, not the phase.
    assert_eq!(engine.exit_errors(service)[0].operation, "Running");
}

#[test]
fn a_state_change_hook_failing_on_entering_a_final_state_records_that_states_title() {
    for (state, title) in [
        (LifecycleState::Initialized, "Initialized"),
        (LifecycleState::Running, "Running"),
        (LifecycleState::Stopped, "Stopped"),
    ] {
        let mut engine = engine_with_log();
        engine
            .add_named_hook::<Base, _>(HookType::OnStateChange, "guard", fail_on_entering(state))
            .unwrap();
        let service = engine.spawn(Base);
        engine.initialize_and_start(service);
        engine.stop(service);
        assert_eq!(
            engine.state(service),
            Some(LifecycleState::Failed),
            "{state}"
        );
        let errors = engine.exit_errors(service);
        assert_eq!(errors.len(), 1, "{state}: {errors:?}");
        assert_eq!(errors[0].operation, title);
        assert_eq!(
            errors[0].error_details.message,
            format!("Base.guard: refuse {state}")
        );
    }
}

#[test]
fn a_state_change_hook_failing_on_entering_stopped_in_the_fail_path_records_stopped() {
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Base, _>(
            HookType::OnStateChange,
            "guard",
            fail_on_entering(LifecycleState::Stopped),
        )
        .unwrap();
    let service = engine.spawn(Base);
    add_failing_hook::<Base>(&mut engine, HookType::OnInit, "i", "boom", vec![service]);
    engine.initialize(service);
    let operations: Vec<&str> = engine
        .exit_errors(service)
        .iter()
        .map(|error| error.operation.as_str())
        .collect();
    assert_eq!(operations, ["Initializing", "Stopped"]);
    assert_eq!(engine.state(service), Some(LifecycleState::Failed));
}

#[test]
fn exit_errors_serialize_in_aiperfs_shape() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    add_failing_hook::<Base>(&mut engine, HookType::OnInit, "i", "x", vec![service]);
    engine.initialize(service);
    let json = serde_json::to_value(&engine.exit_errors(service)[0]).unwrap();
    assert_eq!(json["operation"], "Initializing");
    assert_eq!(json["error_details"]["type"], "HookErrors");
    assert_eq!(json["error_details"]["message"], "Base.i: x");
    assert!(json["error_details"]["code"].is_null());
    assert!(json["service_id"].as_str().unwrap().starts_with("Base_"));
}

#[test]
fn failures_are_counted_exactly_across_a_large_batch() {
    let mut engine = engine_with_log();
    let services = engine.spawn_batch(Base, 10_000);
    let failing: Vec<Entity> = services.iter().copied().step_by(7).collect();
    add_failing_hook::<Base>(&mut engine, HookType::OnInit, "i", "x", failing.clone());
    let report = engine.initialize(Selection::All);
    assert_eq!(report.failed.len(), failing.len());
    assert_eq!(report.moved + report.failed.len(), services.len());
    assert_eq!(engine.failures().len(), failing.len());
    let counts = engine.state_counts();
    assert_eq!(counts[LifecycleState::Failed.index()], failing.len());
    assert_eq!(
        counts[LifecycleState::Initialized.index()],
        services.len() - failing.len()
    );
}
