//! The process-wide service-id serial runs out after 2³² services: spawning then returns a typed
//! error instead of panicking. Its own test binary with a single test, because it uses up the
//! serial of the process (reserving serials in bulk, without creating four billion services).

use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{IdsExhaustedError, SpawnError};

/// Whether `result` is the ids-exhausted error for `asked` services with `left` ids left.
fn is_exhausted<T>(result: Result<T, SpawnError>, asked: u64, left: u64) -> bool {
    result.err()
        == Some(SpawnError::IdsExhausted {
            kind: "Lifecycle",
            count: asked,
            source: IdsExhaustedError {
                requested: asked,
                left,
            },
        })
}

#[test]
fn spawning_past_the_last_service_id_is_an_error_and_spawns_nothing() {
    let mut engine = Engine::new();
    let parent = engine.spawn(Lifecycle);
    let used = ServiceId::CAPACITY - ServiceId::remaining();
    assert!(used >= 1, "the parent took an id");

    // Leave two ids: a batch of three is refused whole, and takes none.
    let skip = usize::try_from(ServiceId::remaining() - 2).expect("fits in usize");
    ServiceId::reserve(skip).expect("that many ids are left");
    assert_eq!(ServiceId::remaining(), 2);
    assert!(is_exhausted(engine.try_spawn_batch(Lifecycle, 3), 3, 2));
    assert!(is_exhausted(
        engine.spawn_children(parent, Lifecycle, 3),
        3,
        2
    ));
    assert_eq!(ServiceId::remaining(), 2);

    // The last two ids work.
    let child = engine.spawn_child(parent, Lifecycle).expect("one id left");
    let last = engine.try_spawn(Lifecycle).expect("the last id");
    assert_eq!(ServiceId::remaining(), 0);
    assert_ne!(engine.service_id(child), engine.service_id(last));

    // Then every way to spawn says so.
    assert!(is_exhausted(engine.try_spawn(Lifecycle), 1, 0));
    assert!(is_exhausted(
        engine.try_spawn_with(Lifecycle, (), Some("late".into())),
        1,
        0
    ));
    assert!(is_exhausted(engine.spawn_child(parent, Lifecycle), 1, 0));
    assert!(is_exhausted(engine.try_spawn_batch(Lifecycle, 1), 1, 0));
    assert!(is_exhausted(
        engine.spawn_children(parent, Lifecycle, 1),
        1,
        0
    ));
    let error = engine.try_spawn(Lifecycle).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot spawn 1 Lifecycle services: service ids exhausted: 1 asked, 0 left of the 2^32 one process can create"
    );

    // Nothing was spawned by the refusals; the engine goes on with the services it has.
    assert_eq!(engine.service_count(), 3);
    assert_eq!(engine.children(parent), &[child]);
    assert_eq!(engine.initialize(Selection::All).moved, 3);
    assert_eq!(engine.stop(Selection::All).moved, 3);

    // The panicking form panics with the same message (before touching the world).
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.spawn(Lifecycle)))
        .expect_err("spawn panics without ids");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("service ids exhausted"), "{message}");
    assert_eq!(engine.service_count(), 3);
}
