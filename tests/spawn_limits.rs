//! Batches too large to allocate are refused with a typed error before anything is spawned or
//! any service id is taken, instead of aborting the process. Only the first test takes
//! service ids (it counts the process-wide ids left).

use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{SpawnError, footprint};

/// A batch whose bytes no 64-bit process can map (user space has 2⁴⁷ bytes; this needs over
/// 2⁴⁸), so the refusal does not depend on the machine or on overcommit.
const UNMAPPABLE: usize = 1 << 42;

#[test]
fn batches_that_cannot_be_allocated_are_refused_and_take_nothing() {
    let mut engine = Engine::new();
    let parent = engine.spawn(Lifecycle);
    let other = engine.spawn(Lifecycle);
    let ids = ServiceId::remaining();

    let error = engine.try_spawn_batch(Lifecycle, UNMAPPABLE).unwrap_err();
    let bytes = UNMAPPABLE as u64 * footprint::bytes_per_service::<Lifecycle, ()>() as u64;
    assert_eq!(
        error,
        SpawnError::OutOfMemory {
            kind: "Lifecycle",
            count: UNMAPPABLE as u64,
            bytes,
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "cannot spawn {UNMAPPABLE} Lifecycle services: they need about {bytes} bytes of memory, more than can be allocated"
        )
    );
    // Counts whose bytes overflow `usize` too.
    assert!(matches!(
        engine.try_spawn_batch_with(Lifecycle, usize::MAX, |_| ()),
        Err(SpawnError::OutOfMemory {
            bytes: u64::MAX,
            ..
        })
    ));
    assert!(matches!(
        engine.spawn_children(parent, Lifecycle, UNMAPPABLE),
        Err(SpawnError::OutOfMemory { .. })
    ));
    assert!(matches!(
        engine.spawn_children_with(&[parent, other], Lifecycle, usize::MAX, |_| ()),
        Err(SpawnError::OutOfMemory {
            count: u64::MAX,
            ..
        })
    ));

    assert_eq!(ServiceId::remaining(), ids, "no id was taken");
    assert_eq!(engine.service_count(), 2);
    assert!(engine.children(parent).is_empty());

    // What fits is spawned as before.
    let batch = engine.try_spawn_batch(Lifecycle, 3).expect("three fit");
    let kids = engine
        .spawn_children(parent, Lifecycle, 2)
        .expect("two fit");
    assert_eq!(batch.len() + kids.len(), 5);
    assert_eq!(ServiceId::remaining(), ids - 5);
    assert_eq!(engine.initialize(Selection::All).moved, 7);
}

#[test]
#[should_panic(expected = "cannot spawn 4398046511104 Lifecycle services")]
fn the_panicking_form_explains_the_refusal() {
    Engine::new().spawn_batch(Lifecycle, UNMAPPABLE);
}
