//! Despawning a parent: its children become roots of the lifecycle tree (their own subtrees move
//! up with them), so every `Selection::All` operation and the run loop reach them again.

mod common;

use std::time::Duration;

use bevy_ecs::entity::Entity;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{LifecycleParent, RunEnd};

/// A root with two children, the first with a child of its own.
fn tree(engine: &mut Engine) -> (Entity, [Entity; 3]) {
    let root = engine.spawn(Base);
    let first = engine.spawn_child(root, Base).unwrap();
    let second = engine.spawn_child(root, Base).unwrap();
    let grandchild = engine.spawn_child(first, Base).unwrap();
    (root, [first, second, grandchild])
}

#[test]
fn children_of_a_despawned_parent_become_roots_with_their_subtrees() {
    let mut engine = engine_with_log();
    let (root, [first, second, grandchild]) = tree(&mut engine);
    assert_eq!(engine.flags(grandchild).unwrap().depth(), 2);

    assert!(engine.world_mut().despawn(root));

    for orphan in [first, second] {
        assert_eq!(engine.flags(orphan).unwrap().depth(), 0);
        assert!(engine.world().get::<LifecycleParent>(orphan).is_none());
    }
    assert_eq!(engine.flags(grandchild).unwrap().depth(), 1);
    assert_eq!(engine.children(first), &[grandchild]);
    let report = engine.initialize(Selection::All);
    assert_eq!(report.moved, 3);
    for service in [first, second, grandchild] {
        assert_eq!(engine.state(service), Some(LifecycleState::Initialized));
    }
}

#[test]
fn running_children_of_a_despawned_parent_stop_with_everything() {
    let mut engine = engine_with_log();
    let (root, services) = tree(&mut engine);
    engine.initialize_and_start(Selection::All);
    engine.world_mut().despawn(root);
    let report = engine.stop(Selection::All);
    assert_eq!(report.moved, 3);
    for service in services {
        assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
    }
}

#[test]
fn a_despawned_middle_service_leaves_its_parent_and_its_children_as_roots() {
    let mut engine = engine_with_log();
    let (root, [first, second, grandchild]) = tree(&mut engine);
    engine.world_mut().despawn(first);
    assert_eq!(engine.children(root), &[second]);
    assert_eq!(engine.flags(second).unwrap().depth(), 1);
    assert_eq!(engine.flags(grandchild).unwrap().depth(), 0);
    engine.initialize(Selection::All);
    for service in [root, second, grandchild] {
        assert_eq!(engine.state(service), Some(LifecycleState::Initialized));
    }
}

#[test]
fn removing_the_parent_link_by_hand_makes_a_root_too() {
    let mut engine = engine_with_log();
    let (_, [first, _, grandchild]) = tree(&mut engine);
    engine
        .world_mut()
        .entity_mut(first)
        .remove::<LifecycleParent>();
    assert_eq!(engine.flags(first).unwrap().depth(), 0);
    assert_eq!(engine.flags(grandchild).unwrap().depth(), 1);
}

#[tokio::test(start_paused = true)]
async fn run_returns_once_the_children_of_a_despawned_parent_stopped() {
    let mut engine = engine_here();
    let (root, services) = tree(&mut engine);
    engine.initialize_async(Selection::All).await;
    engine.start_async(Selection::All).await;
    engine.world_mut().despawn(root);
    engine.stop_handle().stop_all();

    let end = tokio::time::timeout(
        Duration::from_secs(3_600),
        engine.run(std::future::pending()),
    )
    .await
    .expect("run returns: every remaining service stopped");

    assert_eq!(end, RunEnd::AllEnded);
    for service in services {
        assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
    }
}
