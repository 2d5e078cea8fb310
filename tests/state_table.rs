//! AIPerf's op×state table (§1.5), `stop` gating, state-change hooks and flag ordering (§1.3–1.4).

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;

/// Puts a service in `state` as if it had got there (stop-requested is set for the states only a
/// stop reaches).
fn put_in_state(engine: &mut Engine, entity: Entity, state: LifecycleState) {
    let world = engine.world_mut();
    *world.get_mut::<LifecycleState>(entity).unwrap() = state;
    if matches!(
        state,
        LifecycleState::Stopping | LifecycleState::Stopped | LifecycleState::Failed
    ) {
        world
            .get_mut::<LifecycleFlags>(entity)
            .unwrap()
            .set_stop_requested(true);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Move(LifecycleState),
    Ignore,
    Invalid,
}

fn expected(operation: Operation, state: LifecycleState) -> Expect {
    use LifecycleState::*;
    match (operation, state) {
        (Operation::Initialize, Created) => Expect::Move(Initialized),
        (Operation::Initialize, Initializing | Initialized | Starting | Running) => Expect::Ignore,
        (Operation::Initialize, _) => Expect::Invalid,
        (Operation::Start, Initialized) => Expect::Move(Running),
        (Operation::Start, Starting | Running) => Expect::Ignore,
        (Operation::Start, _) => Expect::Invalid,
        (Operation::Stop, Stopping | Stopped | Failed) => Expect::Ignore,
        (Operation::Stop, _) => Expect::Move(Stopped),
    }
}

#[test]
fn every_operation_follows_aiperfs_table_in_every_state() {
    for operation in [Operation::Initialize, Operation::Start, Operation::Stop] {
        for state in LifecycleState::ALL {
            let mut engine = engine_with_log();
            add_logging_hook::<Base>(&mut engine, operation.hook_type(), "hook");
            let service = engine.spawn(Base);
            put_in_state(&mut engine, service, state);
            let report = match operation {
                Operation::Initialize => engine.initialize(service),
                Operation::Start => engine.start(service),
                Operation::Stop => engine.stop(service),
            };
            let ran = Log::take(engine.world_mut());
            match expected(operation, state) {
                Expect::Move(to) => {
                    assert_eq!(report.moved, 1, "{operation} from {state}");
                    assert_eq!(engine.state(service), Some(to), "{operation} from {state}");
                    assert_eq!(ran, vec![tag("hook", service)], "{operation} from {state}");
                }
                Expect::Ignore => {
                    assert_eq!(report.ignored, vec![service], "{operation} from {state}");
                    assert_eq!(
                        engine.state(service),
                        Some(state),
                        "{operation} from {state}"
                    );
                    assert!(ran.is_empty(), "{operation} from {state} ran {ran:?}");
                }
                Expect::Invalid => {
                    assert_eq!(report.invalid.len(), 1, "{operation} from {state}");
                    let error = &report.invalid[0];
                    assert_eq!(
                        (error.entity, error.state, error.operation),
                        (service, state, operation)
                    );
                    assert_eq!(
                        error.to_string(),
                        format!(
                            "Cannot {} from state {} for Base (id={})",
                            operation.verb(),
                            state.name(),
                            engine.service_id(service).unwrap()
                        )
                    );
                    assert_eq!(engine.state(service), Some(state));
                    assert!(ran.is_empty());
                }
            }
        }
    }
}

#[test]
fn stop_from_created_runs_every_stop_hook_and_later_initialize_is_refused() {
    let mut engine = engine_with_log();
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "s1");
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "s2");
    let service = engine.spawn(Base);
    let report = engine.stop(service);
    assert_eq!(report.moved, 1);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![tag("s2", service), tag("s1", service)]
    );
    assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
    assert!(engine.flags(service).unwrap().was_stopped());
    let report = engine.initialize(service);
    assert!(report.invalid[0].to_string().contains("from state stopped"));
}

#[test]
fn a_second_stop_is_ignored_and_runs_no_hooks() {
    let mut engine = engine_with_log();
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "s");
    let service = engine.spawn(Base);
    engine.initialize_and_start(service);
    assert_eq!(engine.stop(service).moved, 1);
    Log::take(engine.world_mut());
    let again = engine.stop(service);
    assert_eq!((again.moved, again.ignored.clone()), (0, vec![service]));
    assert!(Log::take(engine.world_mut()).is_empty());
}

#[test]
fn requesting_stop_by_hand_makes_a_later_stop_a_no_op() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    assert!(engine.set_stop_requested(service));
    let report = engine.stop(service);
    assert_eq!(report.ignored, vec![service]);
    assert_eq!(engine.state(service), Some(LifecycleState::Created));
}

#[test]
fn state_change_hooks_see_every_real_change_with_old_and_new() {
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Lifecycle, _>(HookType::OnStateChange, "log", state_change_logger)
        .unwrap();
    let service = engine.spawn(Base);
    let n = service.index_u32();
    engine.initialize_and_start(service);
    engine.initialize(service); // ignored: no change, no hook
    engine.stop(service);
    assert_eq!(
        Log::take(engine.world_mut()),
        [
            "created->initializing",
            "initializing->initialized",
            "initialized->starting",
            "starting->running",
            "running->stopping",
            "stopping->stopped"
        ]
        .map(|change| format!("{n}:{change}"))
    );
}

/// Flags as a state-change hook saw them on entering each final state.
#[derive(Resource, Default)]
struct Seen(Vec<(LifecycleState, bool)>);

fn record_flag_on_final_state(
    mut targets: Targets<Lifecycle, &LifecycleFlags>,
    mut seen: ResMut<Seen>,
) {
    let change = targets.state_change().unwrap();
    targets.for_each(|_, flags| {
        let flag = match change.new {
            LifecycleState::Initialized => flags.was_initialized(),
            LifecycleState::Running => flags.was_started(),
            LifecycleState::Stopped => flags.was_stopped(),
            _ => return,
        };
        seen.0.push((change.new, flag));
    });
}

#[test]
fn the_final_state_is_set_before_the_completion_flag() {
    let mut engine = engine_with_log();
    engine.world_mut().init_resource::<Seen>();
    engine
        .add_hook::<Lifecycle, _>(HookType::OnStateChange, record_flag_on_final_state)
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize_and_start(service);
    engine.stop(service);
    assert_eq!(
        engine.world().resource::<Seen>().0,
        vec![
            (LifecycleState::Initialized, false),
            (LifecycleState::Running, false),
            (LifecycleState::Stopped, false)
        ]
    );
    let flags = engine.flags(service).unwrap();
    assert!(flags.was_initialized() && flags.was_started() && flags.was_stopped());
}

#[test]
fn initialize_and_start_records_a_refused_initialize_and_does_not_start() {
    let mut engine = engine_with_log();
    let stopped = engine.spawn(Base);
    let fresh = engine.spawn(Base);
    engine.stop(stopped);
    let report = engine.initialize_and_start([stopped, fresh]);
    assert_eq!(report.initialize.invalid.len(), 1);
    assert!(report.start.invalid.is_empty());
    assert_eq!(report.start.moved, 1);
    assert_eq!(engine.state(fresh), Some(LifecycleState::Running));
    let errors = engine.exit_errors(stopped);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].operation, "Initialize");
    assert_eq!(
        errors[0].error_details.error_type.as_deref(),
        Some("InvalidStateError")
    );
}

#[test]
fn selecting_a_non_service_is_reported_not_ignored_silently() {
    let mut engine = engine_with_log();
    let not_a_service = engine.world_mut().spawn_empty().id();
    let report = engine.initialize(not_a_service);
    assert_eq!(report.not_services, vec![not_a_service]);
    assert!(!report.is_clean());
}
