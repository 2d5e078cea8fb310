//! A per-service hook (`add_entity_hook`) that panics for one service fails only that service.

mod common;

use bevy_ecs::prelude::*;
use common::Base;
use lifecycle_ecs::prelude::*;

#[derive(Component)]
struct Slot(u32);

#[derive(Component, Default)]
struct Visited(bool);

/// Every 10th service's hook panics; the others are marked visited.
fn engine_with_panicking_entity_hook(services: u32) -> (Engine, Vec<Entity>) {
    let mut engine = Engine::new();
    engine
        .add_entity_hook::<Base, (&Slot, &mut Visited), _, _>(
            HookType::OnInit,
            "check",
            |_, (slot, mut visited)| {
                if slot.0 % 10 == 3 {
                    panic!("slot {} is corrupt", slot.0);
                }
                visited.0 = true;
                Ok::<(), HookError>(())
            },
        )
        .unwrap();
    let entities = engine.spawn_batch_with(Base, services as usize, |i| {
        (Slot(i as u32), Visited::default())
    });
    (engine, entities)
}

#[test]
fn a_panic_in_an_entity_hook_fails_only_the_service_it_panicked_on() {
    // The panics are expected: keep the test output readable.
    std::panic::set_hook(Box::new(|_| {}));
    let (mut engine, entities) = engine_with_panicking_entity_hook(1_000);
    let report = engine.initialize(Selection::All);
    let _ = std::panic::take_hook();

    assert_eq!(report.moved, 900);
    assert_eq!(report.failed.len(), 100);
    for (i, &entity) in entities.iter().enumerate() {
        let bad = i % 10 == 3;
        let state = engine.state(entity).unwrap();
        let visited = engine.world().get::<Visited>(entity).unwrap().0;
        if bad {
            assert_eq!(state, LifecycleState::Failed, "service {i}");
            let errors = engine.exit_errors(entity);
            assert_eq!(errors.len(), 1);
            assert_eq!(
                errors[0].error_details.message,
                format!("Base.check: panicked: slot {i} is corrupt")
            );
        } else {
            assert_eq!(state, LifecycleState::Initialized, "service {i}");
            assert!(
                visited,
                "service {i} ran the hook after an earlier one panicked"
            );
        }
    }
    let failures = engine.failures().records();
    assert_eq!(failures.len(), 100);
    assert!(
        failures
            .iter()
            .all(|failure| failure.error.type_name() == "Panicked")
    );
}
