//! Services despawned while an operation runs (by a hook's commands) are counted in the report's
//! `despawned` list and nowhere else; a state watch on a despawned service says so.

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{Engine, WaitError};

/// Services a hook despawns.
#[derive(Resource, Default)]
struct Doomed(Vec<Entity>);

/// A hook that despawns the targets listed in [`Doomed`].
fn dismiss(mut targets: Targets<Base>, doomed: Res<Doomed>, mut commands: Commands) {
    targets.for_each(|entity, ()| {
        if doomed.0.contains(&entity) {
            commands.entity(entity).despawn();
        }
    });
}

fn engine_dismissing(hook_type: HookType, doomed: Vec<Entity>) -> Engine {
    let mut engine = engine_with_log();
    engine.world_mut().insert_resource(Doomed(doomed));
    engine
        .add_named_hook::<Base, _>(hook_type, "dismiss", dismiss)
        .unwrap();
    engine
}

#[test]
fn a_service_despawned_by_its_init_hook_is_listed_as_despawned() {
    let mut engine = engine_dismissing(HookType::OnInit, vec![]);
    let services = engine.spawn_batch(Base, 3);
    engine.world_mut().resource_mut::<Doomed>().0 = vec![services[1]];

    let report = engine.initialize(Selection::All);

    assert_eq!(report.despawned, vec![services[1]]);
    assert_eq!(report.moved, 2);
    assert!(report.is_clean());
    assert!(engine.world().get_entity(services[1]).is_err());
}

#[test]
fn a_failed_service_despawned_by_a_later_hook_is_only_despawned() {
    let mut engine = engine_with_log();
    let services = engine.spawn_batch(Base, 2);
    let doomed = services[0];
    add_failing_hook::<Base>(&mut engine, HookType::OnInit, "check", "bad", vec![doomed]);
    engine.world_mut().insert_resource(Doomed(vec![doomed]));
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "dismiss", dismiss)
        .unwrap();

    let report = engine.initialize(Selection::All);

    assert_eq!(report.despawned, vec![doomed]);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.moved, 1);
}

#[test]
fn a_child_despawned_by_its_parent_after_it_initialized_is_not_counted_as_moved() {
    let mut engine = engine_with_log();
    let parent = engine.spawn(Derived);
    let child = engine.spawn_child(parent, Base).unwrap();
    engine.world_mut().insert_resource(Doomed(vec![child]));
    // The parent's hook runs after its children reached INITIALIZED.
    engine
        .add_named_hook::<Derived, _>(
            HookType::OnInit,
            "drop_child",
            |mut targets: Targets<Derived>, doomed: Res<Doomed>, mut commands: Commands| {
                targets.for_each(|_, ()| {
                    for &entity in &doomed.0 {
                        commands.entity(entity).despawn();
                    }
                });
            },
        )
        .unwrap();

    let report = engine.initialize(parent);

    assert_eq!(report.despawned, vec![child]);
    assert_eq!(report.moved, 1, "only the parent");
}

#[test]
fn services_despawned_between_operations_are_not_reported() {
    let mut engine = engine_with_log();
    let services = engine.spawn_batch(Base, 2);
    engine.world_mut().despawn(services[0]);
    let report = engine.initialize(Selection::All);
    assert!(report.despawned.is_empty());
    assert_eq!(report.moved, 1);
}

#[test]
fn a_watch_on_a_despawned_service_says_it_was_despawned() {
    let mut engine = Engine::new();
    let service = engine.spawn(Lifecycle);
    let id = *engine.service_id(service).unwrap();
    let mut watch = engine.watch(service).unwrap();
    engine.world_mut().despawn(service);
    engine.initialize(Selection::All);

    let outcome = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(watch.wait_until(LifecycleState::Running));

    assert_eq!(
        outcome,
        Err(WaitError::Despawned {
            service: id,
            target: LifecycleState::Running
        })
    );
}

#[test]
fn a_watch_on_a_service_despawned_by_a_hook_says_it_was_despawned() {
    let mut engine = engine_dismissing(HookType::OnInit, vec![]);
    let service = engine.spawn(Base);
    engine.world_mut().resource_mut::<Doomed>().0 = vec![service];
    let mut watch = engine.watch(service).unwrap();
    engine.initialize(service);
    let outcome = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(watch.wait_until(LifecycleState::Initialized));
    assert!(matches!(outcome, Err(WaitError::Despawned { .. })));
}

#[test]
fn a_watch_outliving_the_engine_says_the_engine_is_gone() {
    let mut engine = Engine::new();
    let service = engine.spawn(Lifecycle);
    let mut watch = engine.watch(service).unwrap();
    drop(engine);
    let outcome = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(watch.wait_until(LifecycleState::Running));
    assert_eq!(outcome, Err(WaitError::EngineGone));
}
