//! A kind whose bases lead back to itself is refused with a `KindError`, not a stack overflow.

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{HookRegistrationError, KindError, SpawnError};

/// Names itself as its own base (and requires only the root kind, so bevy accepts the type).
#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Narcissus;
impl ServiceKind for Narcissus {
    const NAME: &'static str = "Narcissus";
    type Bases = (Narcissus,);
}

/// `Ping` derives from `Pong`, which derives from `Ping`.
#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Ping;
impl ServiceKind for Ping {
    const NAME: &'static str = "Ping";
    type Bases = (Pong,);
}

#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Pong;
impl ServiceKind for Pong {
    const NAME: &'static str = "Pong";
    type Bases = (Lifecycle, Ping);
}

/// Derives from a kind whose bases form a cycle.
#[derive(Component, Default, Clone)]
#[require(Lifecycle)]
struct Bystander;
impl ServiceKind for Bystander {
    const NAME: &'static str = "Bystander";
    type Bases = (Lifecycle, Ping);
}

#[test]
fn a_kind_that_is_its_own_base_is_refused() {
    let mut engine = Engine::new();
    let error = engine.register_kind::<Narcissus>().unwrap_err();
    assert_eq!(
        error,
        KindError::CyclicBases {
            kind: "Narcissus",
            cycle: vec!["Narcissus", "Narcissus"],
        }
    );
    assert_eq!(
        error.to_string(),
        "the base kinds of Narcissus form a cycle: Narcissus → Narcissus"
    );
}

#[test]
fn a_cycle_of_bases_is_refused_from_either_end() {
    let mut engine = Engine::new();
    assert_eq!(
        engine.register_kind::<Ping>().unwrap_err(),
        KindError::CyclicBases {
            kind: "Ping",
            cycle: vec!["Ping", "Pong", "Ping"],
        }
    );
    assert_eq!(
        engine.register_kind::<Pong>().unwrap_err(),
        KindError::CyclicBases {
            kind: "Pong",
            cycle: vec!["Pong", "Ping", "Pong"],
        }
    );
}

#[test]
fn a_kind_deriving_from_a_cycle_is_refused_and_the_engine_goes_on() {
    let mut engine = Engine::new();
    let error = engine.register_kind::<Bystander>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "the base kinds of Bystander form a cycle: Ping → Pong → Ping"
    );
    // Every way in reports the same error, and nothing was half-registered.
    assert!(matches!(
        engine.try_spawn(Narcissus),
        Err(SpawnError::Kind {
            kind: "Narcissus",
            source: KindError::CyclicBases { .. }
        })
    ));
    assert!(matches!(
        engine.add_named_hook::<Ping, _>(HookType::OnInit, "noop", || {}),
        Err(HookRegistrationError::Kind(KindError::CyclicBases { .. }))
    ));
    assert_eq!(engine.service_count(), 0);
    let fine = engine.spawn(Lifecycle);
    assert_eq!(engine.initialize(Selection::All).moved, 1);
    assert_eq!(engine.state(fine), Some(LifecycleState::Initialized));
}
