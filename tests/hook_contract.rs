//! The hook contract: a kind provides hook types, everything else is refused at registration
//! (AIPerf §2.3, §2.4).

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{HookRegistrationError, KindError};

fn on_message_hook(_targets: Targets<Base>) {}

#[test]
fn registering_an_unprovided_hook_type_fails_naming_type_kind_and_provided_set() {
    let mut engine = Engine::new();
    let error = engine
        .add_hook::<Base, _>(HookType::OnMessage, on_message_hook)
        .unwrap_err();
    let HookRegistrationError::Unsupported(unsupported) = &error else {
        panic!("expected UnsupportedHookError, got {error}");
    };
    assert_eq!(unsupported.hook_type, HookType::OnMessage);
    assert_eq!(unsupported.kind, "Base");
    let message = error.to_string();
    for needle in [
        "@on_message",
        "Base",
        "not provided by any base kind",
        "@on_init",
        "@on_start",
        "@on_stop",
        "@on_state_change",
        "@background_task",
    ] {
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    assert_eq!(engine.hook_count(HookType::OnMessage), 0);
}

#[test]
fn a_kind_inherits_the_hook_types_its_bases_provide() {
    #[derive(Component, Default, Clone)]
    #[require(Messaging)]
    struct Chatty;
    impl ServiceKind for Chatty {
        const NAME: &'static str = "Chatty";
        type Bases = (Messaging,);
    }
    let mut engine = Engine::new();
    let provided = engine.provided_hooks::<Chatty>().unwrap();
    assert!(provided.contains(HookType::OnMessage) && provided.contains(HookType::OnInit));
    engine
        .add_named_hook::<Chatty, _>(HookType::OnMessage, "on_status", |_t: Targets<Chatty>| {})
        .unwrap();
    assert_eq!(engine.hook_count(HookType::OnMessage), 1);
}

#[test]
fn custom_hook_types_work_once_provided() {
    #[derive(Component, Default, Clone)]
    #[require(Lifecycle)]
    struct Flusher;
    impl ServiceKind for Flusher {
        const NAME: &'static str = "Flusher";
        type Bases = (Lifecycle,);
        const PROVIDES: &'static [HookType] = &[HookType::Custom("@on_flush")];
    }
    let mut engine = Engine::new();
    engine
        .add_named_hook::<Flusher, _>(
            HookType::Custom("@on_flush"),
            "flush",
            |_t: Targets<Flusher>| {},
        )
        .unwrap();
    let error = engine
        .add_named_hook::<Flusher, _>(
            HookType::Custom("@on_other"),
            "other",
            |_t: Targets<Flusher>| {},
        )
        .unwrap_err();
    assert!(error.to_string().contains("@on_other"));
    assert!(error.to_string().contains("@on_flush"));
}

#[test]
fn attaching_a_hook_is_validated_against_the_services_own_kind() {
    let mut engine = Engine::new();
    let base = engine.spawn(Base);
    let messaging = engine.spawn(Messaging);
    let error = engine
        .attach_hook(base, HookType::OnMessage, "dynamic", |_: In<Entity>| {})
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("Hook @on_message is not provided by any base kind of Base")
    );
    engine
        .attach_hook(
            messaging,
            HookType::OnMessage,
            "dynamic",
            |_: In<Entity>| {},
        )
        .unwrap();
    let nothing = engine.world_mut().spawn_empty().id();
    assert!(matches!(
        engine.attach_hook(nothing, HookType::OnInit, "x", |_: In<Entity>| {}),
        Err(HookRegistrationError::NotAService(e)) if e == nothing
    ));
}

#[test]
fn a_closure_needs_a_name() {
    let mut engine = Engine::new();
    let error = engine
        .add_hook::<Base, _>(HookType::OnInit, |_t: Targets<Base>| {})
        .unwrap_err();
    assert!(matches!(
        error,
        HookRegistrationError::UnnamedClosure { .. }
    ));
    assert!(error.to_string().contains("add_named_hook"));
}

#[test]
fn a_base_missing_from_required_components_is_refused() {
    #[derive(Component, Default, Clone)]
    struct Forgetful;
    impl ServiceKind for Forgetful {
        const NAME: &'static str = "Forgetful";
        type Bases = (Lifecycle,);
    }
    let mut engine = Engine::new();
    let error = engine.register_kind::<Forgetful>().unwrap_err();
    assert_eq!(
        error,
        KindError::MissingRequiredBase {
            kind: "Forgetful",
            base: "Lifecycle"
        }
    );
    assert!(error.to_string().contains("#[require(Lifecycle)]"));
}

#[test]
fn all_fifteen_aiperf_hook_types_exist() {
    let names: Vec<&str> = HookType::BUILT_IN
        .iter()
        .map(|hook| hook.as_str())
        .collect();
    for name in [
        "@background_task",
        "@on_command",
        "@on_init",
        "@on_message",
        "@on_realtime_metrics",
        "@on_profiling_progress",
        "@on_pull_message",
        "@on_records_progress",
        "@on_start",
        "@on_state_change",
        "@on_stop",
        "@on_request",
        "@on_warmup_progress",
        "@on_worker_status_summary",
        "@on_worker_update",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    assert_eq!(
        engine_provided_root(),
        "[@background_task, @on_init, @on_start, @on_state_change, @on_stop]"
    );
}

fn engine_provided_root() -> String {
    Engine::new()
        .provided_hooks::<Lifecycle>()
        .unwrap()
        .to_string()
}

#[test]
fn service_ids_look_like_aiperfs_and_are_unique() {
    let mut engine = Engine::new();
    let services = engine.spawn_batch(Base, 100_000);
    let mut ids = std::collections::HashSet::new();
    for &service in &services {
        let id = engine.service_id(service).unwrap().to_string();
        let hex = id.strip_prefix("Base_").expect("kind prefix");
        assert_eq!(hex.len(), 8);
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(ids.insert(id));
    }
    let named = engine
        .try_spawn_with(Base, (), Some("records_manager".into()))
        .unwrap();
    assert_eq!(
        engine.service_id(named).unwrap().to_string(),
        "records_manager"
    );
    assert_eq!(engine.service_id(named).unwrap().kind().name(), "Base");
}

#[test]
fn run_hooks_delivers_any_hook_type_to_the_selected_services_and_collects_all_failures() {
    let mut engine = engine_with_log();
    let a = engine.spawn(Messaging);
    let b = engine.spawn(Messaging);
    add_failing_hook::<Messaging>(&mut engine, HookType::OnMessage, "m1", "bad", vec![a]);
    add_logging_hook::<Messaging>(&mut engine, HookType::OnMessage, "m2");
    engine
        .attach_hook(
            b,
            HookType::OnMessage,
            "extra",
            |In(e): In<Entity>, mut log: ResMut<Log>| {
                log.0.push(tag("extra", e));
            },
        )
        .unwrap();
    let failures = engine.run_hooks(HookType::OnMessage, Selection::All);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].to_string(), "Messaging.m1: bad");
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("m1", a),
            tag("m1", b),
            tag("m2", a),
            tag("m2", b),
            tag("extra", b)
        ]
    );
    assert_eq!(
        engine.state(a),
        Some(LifecycleState::Created),
        "no state change"
    );
    engine.run_hooks(HookType::OnMessage, b);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![tag("m1", b), tag("m2", b), tag("extra", b)]
    );
}
