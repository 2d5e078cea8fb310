//! Registering many hooks: `registration/1k_hooks` registers 1 000 ON_INIT hooks on one kind
//! (each is built once, at registration) beside the floor bevy sets for the same systems: one
//! `Schedule` holding 1 000 systems, built once. Per element = per hook.
//!
//! Registering K hooks is O(K): before, the whole hook-type schedule was rebuilt after every
//! registration (400 hooks took minutes).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;
use criterion::{Criterion, Throughput};
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::service_kind;

service_kind! {
    /// The kind every hook is registered on.
    struct Registered: Lifecycle
}

#[derive(Resource, Default)]
struct Calls(u64);

const HOOKS: u32 = 1_000;

fn engine_registration(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut engine = Engine::new();
        engine.world_mut().init_resource::<Calls>();
        let start = Instant::now();
        for i in 0..HOOKS {
            engine
                .add_named_hook::<Registered, _>(
                    HookType::OnInit,
                    format!("hook_{i}"),
                    |mut targets: Targets<Registered>, mut calls: ResMut<Calls>| {
                        targets.for_each(|_, ()| calls.0 += 1);
                    },
                )
                .expect("the root kind provides ON_INIT");
        }
        total += start.elapsed();
        black_box(&engine);
    }
    total
}

fn baseline_registration(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut world = World::new();
        world.init_resource::<Calls>();
        let start = Instant::now();
        let mut schedule = Schedule::default();
        schedule.set_executor(SingleThreadedExecutor::new());
        for _ in 0..HOOKS {
            schedule.add_systems(
                |query: Query<(), With<Registered>>, mut calls: ResMut<Calls>| {
                    calls.0 += query.iter().count() as u64;
                },
            );
        }
        schedule
            .initialize(&mut world)
            .expect("the schedule builds");
        total += start.elapsed();
        black_box(&schedule);
    }
    total
}

fn bench_registration(c: &mut Criterion) {
    let mut group = c.benchmark_group("registration/1k_hooks");
    group.throughput(Throughput::Elements(u64::from(HOOKS)));
    group.sample_size(10);
    group.bench_function("engine", |b| b.iter_custom(engine_registration));
    group.bench_function("baseline", |b| b.iter_custom(baseline_registration));
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_registration(&mut criterion);
    criterion.final_summary();
}
