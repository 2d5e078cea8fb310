//! `attach_child` on trees changed past the engine: re-attached orphans, trees at the 255-level
//! limit, and cycles written through `world_mut()`: bounded walks and typed errors.

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{
    AttachChildError, ChildToAttach, LifecycleParent, MAX_TREE_DEPTH, service_kind,
};

service_kind! {
    /// A parent service.
    pub struct Parent: Lifecycle
}

service_kind! {
    /// A child service.
    pub struct Child: Lifecycle
}

fn depth(engine: &Engine, entity: Entity) -> u8 {
    engine.flags(entity).expect("a service").depth()
}

#[test]
fn an_orphan_becomes_a_root_and_reattached_takes_its_subtree_along() {
    let mut engine = engine_with_log();
    add_logging_hook::<Lifecycle>(&mut engine, HookType::OnInit, "init");
    // root → middle → orphan → leaf, then the middle is despawned: `orphan` becomes a root and
    // its subtree's depths follow (2, 3 → 0, 1).
    let root = engine.spawn(Parent);
    let middle = engine.spawn_child(root, Parent).unwrap();
    let orphan = engine.spawn_child(middle, Child).unwrap();
    let leaf = engine.spawn_child(orphan, Child).unwrap();
    engine.world_mut().despawn(middle);
    assert_eq!(engine.world().get::<LifecycleParent>(orphan), None);
    assert_eq!((depth(&engine, orphan), depth(&engine, leaf)), (0, 1));

    let new_root = engine.spawn(Parent);
    engine.attach_child(new_root, orphan).unwrap();
    assert_eq!(
        (depth(&engine, orphan), depth(&engine, leaf)),
        (1, 2),
        "the subtree moved with its root"
    );
    engine.initialize(new_root);
    assert_eq!(
        Log::take(engine.world_mut()),
        vec![
            tag("init", leaf),
            tag("init", orphan),
            tag("init", new_root)
        ]
    );
}

#[test]
fn an_orphan_of_a_removed_link_reattached_deeper_moves_its_subtree_down() {
    let mut engine = Engine::new();
    let root = engine.spawn(Parent);
    let orphan = engine.spawn_child(root, Child).unwrap();
    let leaf = engine.spawn_child(orphan, Child).unwrap();
    engine
        .world_mut()
        .entity_mut(orphan)
        .remove::<LifecycleParent>();
    let top = engine.spawn(Parent);
    let middle = engine.spawn_child(top, Parent).unwrap();
    let lower = engine.spawn_child(middle, Parent).unwrap();
    engine.attach_child(lower, orphan).unwrap();
    assert_eq!((depth(&engine, orphan), depth(&engine, leaf)), (3, 4));
    assert_eq!(engine.initialize(top).moved, 5);
    assert_eq!(engine.state(leaf), Some(LifecycleState::Initialized));
}

/// `a`'s and `b`'s parents point at each other, written through `world_mut()`.
fn two_cycle(engine: &mut Engine) -> (Entity, Entity) {
    let a = engine.try_spawn_with(Parent, (), Some("a".into())).unwrap();
    let b = engine.try_spawn_with(Parent, (), Some("b".into())).unwrap();
    engine.world_mut().entity_mut(a).insert(LifecycleParent(b));
    engine.world_mut().entity_mut(b).insert(LifecycleParent(a));
    (a, b)
}

#[test]
fn a_cycle_written_through_world_mut_is_a_typed_error_not_a_hang() {
    let mut engine = Engine::new();
    let (a, b) = two_cycle(&mut engine);
    let c = engine.try_spawn_with(Child, (), Some("c".into())).unwrap();
    let error = engine.attach_child(a, c).unwrap_err();
    assert_eq!(
        error,
        AttachChildError::TreeCycle {
            parent: *engine.service_id(a).unwrap(),
            child: *engine.service_id(c).unwrap(),
            through: a,
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "Cannot attach child Child (id=c) to Parent (id=a): the lifecycle tree already has a cycle through entity {a} (written past the engine)"
        )
    );
    // Nothing changed: `c` is still a root.
    assert_eq!(engine.world().get::<LifecycleParent>(c), None);
    assert_eq!(depth(&engine, c), 0);
    // From the other side of the cycle too; a service on the cycle cannot be re-attached.
    assert!(matches!(
        engine.attach_child(b, c),
        Err(AttachChildError::TreeCycle { through, .. }) if through == b
    ));
    assert!(matches!(
        engine.attach_child(c, a),
        Err(AttachChildError::AlreadyAttached { .. })
    ));
}

#[test]
fn a_cycle_above_the_parent_that_reaches_the_child_is_a_cycle() {
    let mut engine = Engine::new();
    let (a, _) = two_cycle(&mut engine);
    let p = engine.try_spawn_with(Parent, (), Some("p".into())).unwrap();
    let q = engine.try_spawn_with(Parent, (), Some("q".into())).unwrap();
    // q hangs under p (through the engine), then p is made a child of q past it: p ⇄ q.
    engine.attach_child(p, q).unwrap();
    engine.world_mut().entity_mut(p).insert(LifecycleParent(q));
    let error = engine.attach_child(q, a).unwrap_err();
    assert!(
        matches!(error, AttachChildError::AlreadyAttached { .. }),
        "{error}"
    );
    let fresh = engine
        .try_spawn_with(Child, (), Some("fresh".into()))
        .unwrap();
    assert!(matches!(
        engine.attach_child(q, fresh),
        Err(AttachChildError::TreeCycle { .. })
    ));
}

/// A chain `root → … → last` with `len` services: the last is at depth `len − 1`.
fn chain(engine: &mut Engine, len: usize) -> Vec<Entity> {
    let mut services = vec![
        engine
            .try_spawn_with(Parent, (), Some("top".into()))
            .unwrap(),
    ];
    for _ in 1..len {
        let last = *services.last().unwrap();
        services.push(engine.spawn_child(last, Parent).unwrap());
    }
    services
}

#[test]
fn the_deepest_level_takes_no_children_and_the_error_names_both_sides() {
    let mut engine = Engine::new();
    let services = chain(&mut engine, usize::from(MAX_TREE_DEPTH) + 1);
    let deepest = *services.last().unwrap();
    assert_eq!(depth(&engine, deepest), MAX_TREE_DEPTH);
    let deepest_id = *engine.service_id(deepest).unwrap();

    let error = engine.spawn_child(deepest, Child).unwrap_err();
    assert_eq!(
        error,
        lifecycle_ecs::SpawnError::Attach(AttachChildError::TooDeep {
            parent: deepest_id,
            child: ChildToAttach::New(lifecycle_ecs::KindId::of::<Child>()),
        })
    );
    assert_eq!(
        error.to_string(),
        format!(
            "Cannot attach a new Child to Parent (id={deepest_id}): the lifecycle tree would go deeper than depth 255"
        )
    );
    let loose = engine
        .try_spawn_with(Child, (), Some("loose".into()))
        .unwrap();
    assert_eq!(
        engine.attach_child(deepest, loose).unwrap_err().to_string(),
        format!(
            "Cannot attach child Child (id=loose) to Parent (id={deepest_id}): the lifecycle tree would go deeper than depth 255"
        )
    );
}

#[test]
fn a_subtree_that_would_pass_the_deepest_level_is_refused_and_left_as_it_was() {
    let mut engine = Engine::new();
    let services = chain(&mut engine, 200);
    let subtree_root = engine
        .try_spawn_with(Child, (), Some("sub".into()))
        .unwrap();
    let mut last = subtree_root;
    for _ in 0..60 {
        last = engine.spawn_child(last, Child).unwrap();
    }
    assert_eq!(depth(&engine, last), 60);
    let error = engine
        .attach_child(services[199], subtree_root)
        .unwrap_err();
    assert!(
        matches!(
            error,
            AttachChildError::TooDeep {
                child: ChildToAttach::Existing(_),
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(engine.world().get::<LifecycleParent>(subtree_root), None);
    assert_eq!(
        (depth(&engine, subtree_root), depth(&engine, last)),
        (0, 60)
    );
    // Higher up it fits: 150 + 1 + 60 = 211.
    engine.attach_child(services[150], subtree_root).unwrap();
    assert_eq!(
        (depth(&engine, subtree_root), depth(&engine, last)),
        (151, 211)
    );
}
