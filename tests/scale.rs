//! Scale: a million services through a full lifecycle, counts exact; one service among a million
//! moves alone. (Speed is measured by the benches and `fleet`, not here.)

mod common;

use bevy_ecs::prelude::*;
use common::*;
use lifecycle_ecs::prelude::*;

const MILLION: usize = 1_000_000;

#[derive(Component, Default)]
struct Visits(u32);

fn count_visits(mut targets: Targets<Base, &mut Visits>) {
    targets.for_each(|_, mut visits| visits.0 += 1);
}

fn total_visits(engine: &mut Engine) -> u64 {
    let world = engine.world_mut();
    let mut query = world.query::<&Visits>();
    query.iter(world).map(|v| u64::from(v.0)).sum()
}

#[test]
fn a_million_services_go_through_a_full_lifecycle_with_exact_counts() {
    let mut engine = Engine::new();
    for hook_type in [HookType::OnInit, HookType::OnStart, HookType::OnStop] {
        engine
            .add_named_hook::<Base, _>(hook_type, "count", count_visits)
            .unwrap();
    }
    let services = engine.spawn_batch_with(Base, MILLION, |_| Visits(0));
    assert_eq!(engine.service_count(), MILLION);
    let failing: Vec<Entity> = services.iter().copied().step_by(1000).collect();
    engine
        .add_entity_hook::<Base, Entity, _, _>(HookType::OnInit, "flaky", {
            let failing: std::collections::HashSet<Entity> = failing.iter().copied().collect();
            move |_, entity| {
                if failing.contains(&entity) {
                    Err("flaky")
                } else {
                    Ok(())
                }
            }
        })
        .unwrap();

    let init = engine.initialize(Selection::All);
    assert_eq!(init.failed.len(), failing.len());
    assert_eq!(init.moved, MILLION - failing.len());
    let start = engine.start(Selection::All);
    assert_eq!(start.moved, MILLION - failing.len());
    assert_eq!(
        start.invalid.len(),
        failing.len(),
        "start refuses FAILED services"
    );
    let stop = engine.stop(Selection::All);
    assert_eq!(stop.moved, MILLION - failing.len());
    assert_eq!(
        stop.ignored.len(),
        failing.len(),
        "stop ignores FAILED services"
    );

    let counts = engine.state_counts();
    assert_eq!(
        counts[LifecycleState::Stopped.index()],
        MILLION - failing.len()
    );
    assert_eq!(counts[LifecycleState::Failed.index()], failing.len());
    assert_eq!(counts.iter().sum::<usize>(), MILLION);
    assert_eq!(engine.failures().len(), failing.len());
    // Init ran for all, start for the healthy, stop for all (failed ones in their fail path).
    let healthy = (MILLION - failing.len()) as u64;
    assert_eq!(
        total_visits(&mut engine),
        MILLION as u64 + healthy + MILLION as u64
    );
}

#[test]
fn one_service_among_a_million_moves_alone() {
    let mut engine = engine_with_log();
    for (hook_type, name) in [
        (HookType::OnInit, "init"),
        (HookType::OnStart, "start"),
        (HookType::OnStop, "stop"),
    ] {
        add_logging_hook::<Base>(&mut engine, hook_type, name);
    }
    let services = engine.spawn_batch(Base, MILLION);
    let chosen = services[MILLION / 2];
    for (operation, name) in [
        (Operation::Initialize, "init"),
        (Operation::Start, "start"),
        (Operation::Stop, "stop"),
    ] {
        let report = match operation {
            Operation::Initialize => engine.initialize(chosen),
            Operation::Start => engine.start(chosen),
            Operation::Stop => engine.stop(chosen),
        };
        assert_eq!(report.moved, 1);
        assert_eq!(Log::take(engine.world_mut()), vec![tag(name, chosen)]);
    }
    let counts = engine.state_counts();
    assert_eq!(counts[LifecycleState::Created.index()], MILLION - 1);
    assert_eq!(counts[LifecycleState::Stopped.index()], 1);
}

#[test]
fn a_large_explicit_selection_is_handled_like_all() {
    let mut engine = Engine::new();
    engine
        .add_named_hook::<Base, _>(HookType::OnInit, "count", count_visits)
        .unwrap();
    let services = engine.spawn_batch_with(Base, 100_000, |_| Visits(0));
    let half: Vec<Entity> = services.iter().copied().step_by(2).collect();
    let report = engine.initialize(half.clone());
    assert_eq!(report.moved, half.len());
    assert_eq!(total_visits(&mut engine), half.len() as u64);
    assert_eq!(
        engine.state_counts()[LifecycleState::Initialized.index()],
        half.len()
    );
}
