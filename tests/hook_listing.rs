//! Listing hooks (AIPerf's `get_hooks` / `for_each_hook_param`, issue 7.10), refused registrations
//! leaving the engine as it was (8.9), and many registrations (8.13).

mod common;

use std::time::Duration;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, HookConfig, HookParams, HookParamsError};

fn named(hooks: &[lifecycle_ecs::HookInfo]) -> Vec<String> {
    hooks
        .iter()
        .map(|hook| format!("{}.{}:{}", hook.kind, hook.name, hook.hook_type))
        .collect()
}

fn listing_engine() -> Engine {
    let mut engine = engine_with_log();
    add_logging_hook::<Derived>(&mut engine, HookType::OnStop, "derived_stop");
    add_logging_hook::<Derived>(&mut engine, HookType::OnInit, "derived_init");
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "base_init_b");
    add_logging_hook::<Lifecycle>(&mut engine, HookType::OnInit, "root_init");
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "base_init_a");
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "base_stop");
    engine
}

#[test]
fn hooks_of_a_kind_list_base_kinds_first_then_registration_order() {
    let engine = listing_engine();
    assert_eq!(
        named(
            &engine
                .hooks_of::<Derived>(&[HookType::OnInit], false)
                .unwrap()
        ),
        [
            "Lifecycle.root_init:@on_init",
            "Base.base_init_b:@on_init",
            "Base.base_init_a:@on_init",
            "Derived.derived_init:@on_init",
        ]
    );
    // A base kind does not see its derived kinds' hooks.
    assert_eq!(
        named(&engine.hooks_of::<Base>(&[HookType::OnInit], false).unwrap()),
        [
            "Lifecycle.root_init:@on_init",
            "Base.base_init_b:@on_init",
            "Base.base_init_a:@on_init",
        ]
    );
    assert_eq!(
        named(
            &engine
                .hooks_of::<Derived>(&[HookType::OnInit], true)
                .unwrap()
        ),
        [
            "Derived.derived_init:@on_init",
            "Base.base_init_a:@on_init",
            "Base.base_init_b:@on_init",
            "Lifecycle.root_init:@on_init",
        ]
    );
}

#[test]
fn the_listing_is_the_run_order() {
    let mut engine = listing_engine();
    let service = engine.spawn(Derived);
    engine.initialize(service);
    let ran: Vec<String> = Log::take(engine.world_mut())
        .into_iter()
        .map(|line| line.split('@').next().unwrap().to_owned())
        .collect();
    let listed: Vec<String> = engine
        .hooks_of::<Derived>(&[HookType::OnInit], false)
        .unwrap()
        .iter()
        .map(|hook| hook.name.to_string())
        .collect();
    assert_eq!(ran, listed);
    engine.start(service);
    engine.stop(service);
    let ran: Vec<String> = Log::take(engine.world_mut())
        .into_iter()
        .map(|line| line.split('@').next().unwrap().to_owned())
        .collect();
    // ON_STOP runs reversed: the listing reversed is its run order.
    let listed: Vec<String> = engine
        .hooks_of::<Derived>(&[HookType::OnStop], HookType::OnStop.runs_reversed())
        .unwrap()
        .iter()
        .map(|hook| hook.name.to_string())
        .collect();
    assert_eq!(listed, ["derived_stop", "base_stop"]);
    assert_eq!(ran, listed);
}

#[test]
fn several_types_group_by_type_in_the_order_given_and_none_means_all() {
    let engine = listing_engine();
    assert_eq!(
        named(
            &engine
                .hooks_of::<Derived>(
                    &[HookType::OnStop, HookType::OnInit, HookType::OnStop],
                    false
                )
                .unwrap()
        ),
        [
            "Base.base_stop:@on_stop",
            "Derived.derived_stop:@on_stop",
            "Lifecycle.root_init:@on_init",
            "Base.base_init_b:@on_init",
            "Base.base_init_a:@on_init",
            "Derived.derived_init:@on_init",
        ]
    );
    // No types: every type, in the order its first hook was registered (ON_STOP came first).
    assert_eq!(
        engine.hooks_of::<Derived>(&[], false).unwrap()[0].hook_type,
        HookType::OnStop
    );
    assert_eq!(engine.hooks_of::<Derived>(&[], false).unwrap().len(), 6);
    assert!(
        engine
            .hooks_of::<Lifecycle>(&[HookType::OnStart], false)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_service_lists_its_kind_hooks_then_its_attached_hooks() {
    let mut engine = listing_engine();
    let service = engine.spawn(Derived);
    let other = engine.spawn(Derived);
    engine
        .attach_hook(
            service,
            HookType::OnInit,
            "attached_init",
            |_: In<Entity>| {},
        )
        .unwrap();
    engine
        .attach_hook_with(
            service,
            HookType::OnStop,
            HookConfig::named("attached_stop").topics(["x"]),
            |_: In<Entity>| {},
        )
        .unwrap();
    let hooks = engine
        .service_hooks(service, &[HookType::OnInit, HookType::OnStop], false)
        .unwrap();
    assert_eq!(
        named(&hooks),
        [
            "Lifecycle.root_init:@on_init",
            "Base.base_init_b:@on_init",
            "Base.base_init_a:@on_init",
            "Derived.derived_init:@on_init",
            "Derived.attached_init:@on_init",
            "Base.base_stop:@on_stop",
            "Derived.derived_stop:@on_stop",
            "Derived.attached_stop:@on_stop",
        ]
    );
    assert_eq!(hooks[4].attached_to, Some(service));
    assert_eq!(hooks[0].attached_to, None);
    assert_eq!(&*hooks[7].params.topic_list().unwrap()[0], "x");
    // Another service of the kind has none of them.
    assert_eq!(
        engine.service_hooks(other, &[], false).unwrap().len(),
        6,
        "only the kind hooks"
    );
    // ON_STOP's run order: the attached hook first.
    let stop = engine
        .service_hooks(service, &[HookType::OnStop], true)
        .unwrap();
    assert_eq!(&*stop[0].name, "attached_stop");
    let not_a_service = engine.world_mut().spawn_empty().id();
    assert!(matches!(
        engine.service_hooks(not_a_service, &[], false),
        Err(lifecycle_ecs::HookRegistrationError::NotAService(e)) if e == not_a_service
    ));
}

#[test]
fn parameters_and_timeouts_are_listed() {
    let mut engine = Engine::new();
    engine
        .add_hook_with::<Messaging, _>(
            HookType::OnMessage,
            HookConfig::named("on_credit")
                .topics(["credit_drop", "credit_return"])
                .timeout(Duration::from_secs(3)),
            || {},
        )
        .unwrap();
    engine
        .add_hook_with::<Messaging, _>(
            HookType::OnMessage,
            HookConfig::named("on_status").topics(["status"]),
            || {},
        )
        .unwrap();
    engine
        .add_background_task::<Lifecycle, _>(
            HookConfig::named("beat"),
            BackgroundTaskParams::every(Duration::from_millis(250)),
            || {},
        )
        .unwrap();
    let hooks = engine
        .hooks_of::<Messaging>(&[HookType::OnMessage, HookType::BackgroundTask], false)
        .unwrap();
    assert_eq!(hooks.len(), 3);
    assert_eq!(hooks[0].timeout, Some(Duration::from_secs(3)));
    assert_eq!(hooks[1].timeout, None);
    match &hooks[2].params {
        HookParams::BackgroundTask(params) => assert!(params.immediate),
        other => panic!("expected background-task params, got {other:?}"),
    }
    assert_eq!(hooks[2].kind, "Lifecycle");
    assert_eq!(engine.hook_count(HookType::BackgroundTask), 1);

    let mut seen = Vec::new();
    engine
        .for_each_hook_param::<Messaging>(&[HookType::OnMessage], false, |hook, topic| {
            seen.push(format!("{}:{topic}", hook.name));
        })
        .unwrap();
    assert_eq!(
        seen,
        [
            "on_credit:credit_drop",
            "on_credit:credit_return",
            "on_status:status"
        ]
    );
    // A hook without topics stops the walk with a typed error, after the hooks before it.
    let mut seen = 0;
    let error = engine
        .for_each_hook_param::<Messaging>(
            &[HookType::OnMessage, HookType::BackgroundTask],
            false,
            |_, _| seen += 1,
        )
        .unwrap_err();
    assert_eq!(seen, 3);
    assert!(matches!(error, HookParamsError::NotTopics(info) if &*info.name == "beat"));
}

#[derive(Component, Default)]
struct Counter;

fn conflicting(_: Query<&mut Counter>, _: Query<&Counter>) {}

fn cyclic() {}

#[test]
fn a_refused_registration_leaves_the_engine_as_it_was() {
    let mut engine = engine_with_log();
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "before");
    // Conflicting data access inside one system: bevy refuses to initialize it.
    let refused = engine.add_hook::<Base, _>(HookType::OnInit, conflicting);
    assert!(
        matches!(refused, Err(lifecycle_ecs::HookRegistrationError::Schedule(ref m)) if m.contains("B0001")),
        "{refused:?}"
    );
    // An ordering cycle inside the hook's own configuration.
    let refused = engine.add_hook::<Base, _>(HookType::OnInit, cyclic.after(cyclic));
    assert!(
        matches!(
            refused,
            Err(lifecycle_ecs::HookRegistrationError::Schedule(_))
        ),
        "{refused:?}"
    );
    let refused = engine.add_background_task::<Lifecycle, _>(
        HookConfig::named("bad_task"),
        BackgroundTaskParams::every(Duration::from_millis(5)),
        conflicting,
    );
    assert!(refused.is_err());
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "after");
    assert_eq!(engine.hook_count(HookType::OnInit), 2);
    assert_eq!(engine.hook_count(HookType::BackgroundTask), 0);
    assert_eq!(
        named(&engine.hooks_of::<Base>(&[], false).unwrap()),
        ["Base.before:@on_init", "Base.after:@on_init"]
    );
    let services = engine.spawn_batch(Base, 3);
    let report = engine.initialize(Selection::All);
    assert_eq!(report.moved, 3);
    let log = Log::take(engine.world_mut());
    assert_eq!(
        log.len(),
        6,
        "each remaining hook ran once per service: {log:?}"
    );
    for &service in &services {
        assert_eq!(engine.state(service), Some(LifecycleState::Initialized));
    }
}

#[test]
fn ten_thousand_hooks_register_and_each_runs_once_in_order() {
    let mut engine = Engine::new();
    engine.world_mut().init_resource::<Log>();
    for i in 0..10_000u32 {
        engine
            .add_named_hook::<Base, _>(
                HookType::OnInit,
                format!("hook_{i}"),
                move |mut targets: Targets<Base>, mut log: ResMut<Log>| {
                    targets.for_each(|_, ()| log.0.push(i.to_string()));
                },
            )
            .unwrap();
    }
    assert_eq!(engine.hook_count(HookType::OnInit), 10_000);
    let service = engine.spawn(Base);
    assert_eq!(engine.initialize(service).moved, 1);
    let log = Log::take(engine.world_mut());
    let expected: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    assert_eq!(log, expected);
    let listed = engine.hooks_of::<Base>(&[HookType::OnInit], false).unwrap();
    assert_eq!(&*listed[9_999].name, "hook_9999");
}
