//! Hook order: base kinds first, registration order within a kind, attached hooks last, ON_STOP
//! reversed (AIPerf §2.2, §1.9).

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;

fn hook_2(targets: Targets<Base>, log: ResMut<Log>) {
    log_targets("hook_2", targets, log);
}
fn hook_3(targets: Targets<Base>, log: ResMut<Log>) {
    log_targets("hook_3", targets, log);
}
fn hook_1(targets: Targets<Base>, log: ResMut<Log>) {
    log_targets("hook_1", targets, log);
}

fn log_targets(name: &str, mut targets: Targets<Base>, mut log: ResMut<Log>) {
    targets.for_each(|entity, ()| log.0.push(tag(name, entity)));
}

#[test]
fn hooks_of_one_kind_run_in_registration_order() {
    let mut engine = engine_with_log();
    engine
        .add_hook::<Base, _>(HookType::OnInit, hook_2)
        .unwrap();
    engine
        .add_hook::<Base, _>(HookType::OnInit, hook_3)
        .unwrap();
    engine
        .add_hook::<Base, _>(HookType::OnInit, hook_1)
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize(service);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("hook_2", service),
            tag("hook_3", service),
            tag("hook_1", service)
        ]
    );
}

#[test]
fn base_kind_hooks_run_before_derived_even_when_registered_later() {
    let mut engine = engine_with_log();
    add_logging_hook::<Derived>(&mut engine, HookType::OnInit, "derived");
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "base");
    add_logging_hook::<Lifecycle>(&mut engine, HookType::OnInit, "root");
    let service = engine.spawn(Derived);
    engine.initialize(service);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("root", service),
            tag("base", service),
            tag("derived", service)
        ]
    );
}

#[test]
fn on_stop_runs_the_whole_chain_reversed() {
    let mut engine = engine_with_log();
    for (name, base) in [
        ("base_1", true),
        ("derived_1", false),
        ("base_2", true),
        ("derived_2", false),
    ] {
        if base {
            add_logging_hook::<Base>(&mut engine, HookType::OnStop, name);
        } else {
            add_logging_hook::<Derived>(&mut engine, HookType::OnStop, name);
        }
    }
    let service = engine.spawn(Derived);
    engine.stop(service);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("derived_2", service),
            tag("derived_1", service),
            tag("base_2", service),
            tag("base_1", service)
        ]
    );
}

mod same_name {
    use super::*;

    pub mod base {
        use super::*;
        pub fn initialize(targets: Targets<Base>, log: ResMut<Log>) {
            log_targets("base.initialize", targets, log);
        }
    }
    pub mod derived {
        use super::*;
        pub fn initialize(mut targets: Targets<Derived>, mut log: ResMut<Log>) {
            targets.for_each(|entity, ()| log.0.push(tag("derived.initialize", entity)));
        }
    }
}

#[test]
fn same_named_hooks_on_base_and_derived_both_run() {
    let mut engine = engine_with_log();
    engine
        .add_hook::<Base, _>(HookType::OnInit, same_name::base::initialize)
        .unwrap();
    engine
        .add_hook::<Derived, _>(HookType::OnInit, same_name::derived::initialize)
        .unwrap();
    let service = engine.spawn(Derived);
    engine.initialize(service);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("base.initialize", service),
            tag("derived.initialize", service)
        ]
    );
}

#[test]
fn a_base_kind_hook_also_runs_for_plain_base_services_but_derived_hooks_do_not() {
    let mut engine = engine_with_log();
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "base");
    add_logging_hook::<Derived>(&mut engine, HookType::OnInit, "derived");
    let plain = engine.spawn(Base);
    engine.initialize(plain);
    assert_eq!(Log::take(engine.world_mut()), vec![tag("base", plain)]);
}

#[test]
fn attached_hooks_run_after_kind_hooks_and_first_on_stop() {
    let mut engine = engine_with_log();
    add_logging_hook::<Base>(&mut engine, HookType::OnInit, "kind_init");
    add_logging_hook::<Base>(&mut engine, HookType::OnStop, "kind_stop");
    let service = engine.spawn(Base);
    let other = engine.spawn(Base);
    for (hook_type, name) in [
        (HookType::OnInit, "attached_init"),
        (HookType::OnStop, "attached_stop_1"),
        (HookType::OnStop, "attached_stop_2"),
    ] {
        engine
            .attach_hook(
                service,
                hook_type,
                name,
                move |In(entity): In<Entity>, mut log: ResMut<Log>| {
                    log.0.push(tag(name, entity));
                },
            )
            .unwrap();
    }
    engine.initialize(Selection::All);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("kind_init", service),
            tag("kind_init", other),
            tag("attached_init", service)
        ]
    );
    engine.stop(service);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("attached_stop_2", service),
            tag("attached_stop_1", service),
            tag("kind_stop", service)
        ]
    );
}

#[test]
fn hooks_registered_after_services_exist_apply_from_the_next_operation() {
    let mut engine = engine_with_log();
    let service = engine.spawn(Base);
    engine.initialize(service);
    add_logging_hook::<Base>(&mut engine, HookType::OnStart, "late");
    engine.start(service);
    assert_eq!(Log::take(engine.world_mut()), vec![tag("late", service)]);
}

/// Python: `class C(A, B)` with `A(O)`, `B(O)` has MRO `[C, A, B, O]`; hooks run `O, B, A, C`.
mod diamond {
    use super::*;

    #[derive(Component, Default, Clone)]
    #[require(Lifecycle)]
    pub struct A;
    impl ServiceKind for A {
        const NAME: &'static str = "A";
        type Bases = (Lifecycle,);
    }
    #[derive(Component, Default, Clone)]
    #[require(Lifecycle)]
    pub struct B;
    impl ServiceKind for B {
        const NAME: &'static str = "B";
        type Bases = (Lifecycle,);
    }
    #[derive(Component, Default, Clone)]
    #[require(A, B)]
    pub struct C;
    impl ServiceKind for C {
        const NAME: &'static str = "C";
        type Bases = (A, B);
    }
    /// `class D(B, A)` contradicts the order `C` fixed.
    #[derive(Component, Default, Clone)]
    #[require(A, B)]
    pub struct D;
    impl ServiceKind for D {
        const NAME: &'static str = "D";
        type Bases = (B, A);
    }
}

#[test]
fn hook_order_follows_the_c3_linearization_of_the_bases() {
    use diamond::*;
    let mut engine = engine_with_log();
    add_logging_hook::<C>(&mut engine, HookType::OnInit, "c");
    add_logging_hook::<A>(&mut engine, HookType::OnInit, "a");
    add_logging_hook::<B>(&mut engine, HookType::OnInit, "b");
    add_logging_hook::<Lifecycle>(&mut engine, HookType::OnInit, "o");
    let service = engine.spawn(C);
    engine.initialize(service);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("o", service),
            tag("b", service),
            tag("a", service),
            tag("c", service)
        ]
    );
    let error = engine.register_kind::<D>().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("earlier kinds fixed the opposite order"),
        "{error}"
    );
}

#[test]
fn a_hook_is_named_after_its_function() {
    let mut engine = engine_with_log();
    fn failing_init(mut targets: Targets<Base>) {
        targets.try_for_each(|_, ()| Err("nope"));
    }
    engine
        .add_hook::<Base, _>(HookType::OnInit, failing_init)
        .unwrap();
    let service = engine.spawn(Base);
    engine.initialize(service);
    assert_eq!(&*engine.failures().records()[0].hook, "failing_init");
}
