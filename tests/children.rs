//! Child lifecycles (AIPerf §1.9, §1.10): children initialize and start before the parent's own
//! hooks, stop after them in reverse; a failing child fails its parent.

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{AttachChildError, SpawnError};

#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Parent;
impl ServiceKind for Parent {
    const NAME: &'static str = "Parent";
    type Bases = (Lifecycle,);
}

#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Child;
impl ServiceKind for Child {
    const NAME: &'static str = "Child";
    type Bases = (Lifecycle,);
}

fn family(engine: &mut Engine, children: usize) -> (Entity, Vec<Entity>) {
    let parent = engine.spawn(Parent);
    let kids = (0..children)
        .map(|_| engine.spawn_child(parent, Child).unwrap())
        .collect();
    (parent, kids)
}

fn hooks_for_all_phases(engine: &mut Engine) {
    for (hook_type, name) in [
        (HookType::OnInit, "init"),
        (HookType::OnStart, "start"),
        (HookType::OnStop, "stop"),
    ] {
        add_logging_hook::<Parent>(engine, hook_type, name);
        add_logging_hook::<Child>(engine, hook_type, name);
    }
}

#[test]
fn children_initialize_and_start_before_the_parent_and_stop_after_it_in_reverse() {
    for selection in [Selection::All, Selection::Many(vec![])] {
        let mut engine = engine_with_log();
        hooks_for_all_phases(&mut engine);
        let (parent, kids) = family(&mut engine, 2);
        let selection = match selection {
            Selection::All => Selection::All,
            Selection::Many(_) => Selection::from(parent),
        };
        let init = engine.initialize(selection.clone());
        assert_eq!(init.moved, 3);
        assert_eq!(
            Log::take(engine.world_mut()),
            vec![
                tag("init", kids[0]),
                tag("init", kids[1]),
                tag("init", parent)
            ]
        );
        engine.start(selection.clone());
        assert_eq!(
            Log::take(engine.world_mut()),
            vec![
                tag("start", kids[0]),
                tag("start", kids[1]),
                tag("start", parent)
            ]
        );
        let stop = engine.stop(selection);
        assert_eq!(stop.moved, 3);
        assert_eq!(
            Log::take(engine.world_mut()),
            vec![
                tag("stop", parent),
                tag("stop", kids[1]),
                tag("stop", kids[0])
            ]
        );
        assert!(
            [parent, kids[0], kids[1]]
                .iter()
                .all(|&e| engine.state(e) == Some(LifecycleState::Stopped))
        );
    }
}

#[test]
fn the_parent_enters_its_transient_state_before_its_children_and_finishes_after_them() {
    let mut engine = engine_with_log();
    engine
        .add_named_hook::<Lifecycle, _>(HookType::OnStateChange, "log", state_change_logger)
        .unwrap();
    let (parent, kids) = family(&mut engine, 1);
    engine.initialize(parent);
    let (p, c) = (parent.index_u32(), kids[0].index_u32());
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            format!("{p}:created->initializing"),
            format!("{c}:created->initializing"),
            format!("{c}:initializing->initialized"),
            format!("{p}:initializing->initialized"),
        ]
    );
}

#[test]
fn sibling_batches_run_hook_by_hook_not_child_by_child() {
    let mut engine = engine_with_log();
    add_logging_hook::<Child>(&mut engine, HookType::OnInit, "a");
    add_logging_hook::<Child>(&mut engine, HookType::OnInit, "b");
    let (parent, kids) = family(&mut engine, 2);
    engine.initialize(parent);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("a", kids[0]),
            tag("a", kids[1]),
            tag("b", kids[0]),
            tag("b", kids[1])
        ]
    );
}

#[test]
fn a_failing_child_fails_its_parent_after_the_parents_hooks_and_spares_its_siblings() {
    let mut engine = engine_with_log();
    let (parent, kids) = family(&mut engine, 3);
    engine
        .add_named_hook::<Child, _>(
            HookType::OnInit,
            "open",
            failing_hook::<Child>("open", "refused", vec![kids[1]]),
        )
        .unwrap();
    add_logging_hook::<Parent>(&mut engine, HookType::OnInit, "own");
    add_logging_hook::<Child>(&mut engine, HookType::OnStop, "close");
    let report = engine.initialize(parent);
    let log = Log::take(engine.world_mut());
    assert!(
        log.contains(&tag("own", parent)),
        "the parent's remaining hooks still ran: {log:?}"
    );
    assert_eq!(engine.state(kids[1]), Some(LifecycleState::Failed));
    assert_eq!(engine.state(parent), Some(LifecycleState::Failed));
    // The siblings initialized, then were stopped by the parent's fail path (reverse order).
    assert_eq!(engine.state(kids[0]), Some(LifecycleState::Stopped));
    assert_eq!(engine.state(kids[2]), Some(LifecycleState::Stopped));
    let stops: Vec<&String> = log.iter().filter(|l| l.starts_with("close")).collect();
    assert_eq!(
        stops,
        [
            &tag("close", kids[1]),
            &tag("close", kids[2]),
            &tag("close", kids[0])
        ]
    );
    let error = &engine.exit_errors(parent)[0];
    assert_eq!(error.operation, "Initializing");
    assert_eq!(
        error.error_details.message,
        format!(
            "Parent.initialize_children: child services failed: {}",
            engine.service_id(kids[1]).unwrap()
        )
    );
    assert_eq!(report.failed.len(), 2);
    assert_eq!(
        report.moved, 2,
        "the two healthy children reached INITIALIZED"
    );
}

#[test]
fn children_attach_only_in_created_with_one_parent_and_no_cycles() {
    let mut engine = engine_with_log();
    let (parent, kids) = family(&mut engine, 1);
    let other = engine.spawn(Parent);
    assert!(matches!(
        engine.attach_child(other, kids[0]),
        Err(AttachChildError::AlreadyAttached { .. })
    ));
    assert!(matches!(
        engine.attach_child(kids[0], parent),
        Err(AttachChildError::Cycle { .. })
    ));
    assert!(matches!(
        engine.attach_child(parent, parent),
        Err(AttachChildError::Cycle { .. })
    ));
    engine.initialize(other);
    let late = engine.spawn(Child);
    let error = engine.attach_child(other, late).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Cannot attach child Child (id={}) to Parent (id={}) in state initialized. Please attach children before initializing or starting the lifecycle.",
            engine.service_id(late).unwrap(),
            engine.service_id(other).unwrap()
        )
    );
    let nothing = engine.world_mut().spawn_empty().id();
    assert_eq!(
        engine.attach_child(parent, nothing),
        Err(AttachChildError::NotAService(nothing))
    );
}

#[test]
fn grandchildren_nest_and_depths_follow_reattachment() {
    let mut engine = engine_with_log();
    for (hook_type, name) in [(HookType::OnInit, "init"), (HookType::OnStop, "stop")] {
        add_logging_hook::<Lifecycle>(&mut engine, hook_type, name);
    }
    // Build the subtree first, then hang it under a root: depths shift by one.
    let middle = engine.spawn(Lifecycle);
    let leaf = engine.spawn_child(middle, Lifecycle).unwrap();
    let root = engine.spawn(Lifecycle);
    engine.attach_child(root, middle).unwrap();
    assert_eq!(engine.flags(leaf).unwrap().depth(), 2);
    engine.initialize(Selection::All);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![tag("init", leaf), tag("init", middle), tag("init", root)]
    );
    engine.stop(root);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![tag("stop", root), tag("stop", middle), tag("stop", leaf)]
    );
}

#[test]
fn selecting_a_child_alone_moves_only_that_child() {
    let mut engine = engine_with_log();
    let (parent, kids) = family(&mut engine, 2);
    let report = engine.initialize(kids[1]);
    assert_eq!(report.moved, 1);
    assert_eq!(engine.state(parent), Some(LifecycleState::Created));
    assert_eq!(engine.state(kids[1]), Some(LifecycleState::Initialized));
    // The parent's initialize then reaches the other child and ignores the initialized one.
    let report = engine.initialize(parent);
    assert_eq!(report.moved, 2);
    assert_eq!(report.ignored, vec![kids[1]]);
}

#[test]
fn children_spawned_in_a_batch_behave_like_attached_ones() {
    let mut engine = engine_with_log();
    hooks_for_all_phases(&mut engine);
    let parent = engine.spawn(Parent);
    let kids = engine.spawn_children(parent, Child, 3).unwrap();
    assert_eq!(engine.children(parent), kids.as_slice());
    assert!(kids.iter().all(|&k| engine.flags(k).unwrap().depth() == 1));
    engine.initialize(Selection::All);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("init", kids[0]),
            tag("init", kids[1]),
            tag("init", kids[2]),
            tag("init", parent)
        ]
    );
    let error = engine.spawn_children(parent, Child, 1).unwrap_err();
    assert!(matches!(
        error,
        SpawnError::Attach(AttachChildError::ParentNotCreated {
            state: LifecycleState::Initialized,
            ..
        })
    ));
}

#[test]
fn batch_children_join_existing_lists_and_repeated_parents_in_order() {
    let mut engine = Engine::new();
    let a = engine.spawn(Parent);
    let b = engine.spawn(Parent);
    let first = engine.spawn_child(a, Child).unwrap();
    // `a` already has a list (one child inline); `b` has none; `a` is named twice, after `b`.
    let kids = engine
        .spawn_children_with(&[a, b, a], Child, 2, |_| ())
        .unwrap();
    assert_eq!(kids.len(), 6);
    assert_eq!(
        engine.children(a),
        &[first, kids[0], kids[1], kids[4], kids[5]]
    );
    assert_eq!(engine.children(b), &kids[2..4]);
    let report = engine.initialize(Selection::All);
    assert_eq!(report.moved, 9);
}

#[test]
fn a_panicking_extra_closure_leaves_every_spawned_child_in_its_parents_list() {
    // Both spawn paths: a small batch and one big enough for the exact-size path.
    for per_parent in [4, 20_000] {
        let mut engine = Engine::new();
        let parents = engine.spawn_batch(Parent, 2);
        let panic_at = per_parent + 1;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.spawn_children_with(&parents, Child, per_parent, |i| {
                assert!(i != panic_at, "no bundle for child {i}");
            })
        }));
        assert!(outcome.is_err());
        let linked: Vec<Entity> = parents
            .iter()
            .flat_map(|&parent| engine.children(parent).to_vec())
            .collect();
        // Every child that exists is listed under its parent, and links back to it.
        for &child in &linked {
            let link = engine.world().get::<lifecycle_ecs::LifecycleParent>(child);
            assert!(link.is_some());
        }
        let mut with_link = engine
            .world_mut()
            .query::<(Entity, &lifecycle_ecs::LifecycleParent)>();
        let count = with_link.iter(engine.world()).count();
        assert_eq!(count, linked.len());
        // The engine goes on: a later batch links through the per-child hook as usual.
        let more = engine.spawn_children(parents[1], Child, 1).unwrap();
        assert_eq!(engine.children(parents[1]).last(), more.last());
        let report = engine.initialize(Selection::All);
        assert_eq!(report.moved, count + 3);
    }
}
