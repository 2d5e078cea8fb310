//! Criterion benches of the lifecycle engine, each beside a hand-written baseline doing the same
//! work without the engine (a `Vec<Box<dyn Service>>` with boxed async hooks driven on a
//! current-thread tokio runtime; see [`baseline`]).
//!
//! | group | what is timed | per |
//! |---|---|---|
//! | `phase/1M` | `initialize` / `start` / `stop` of 1 M services, one trivial hook per phase | service |
//! | `spawn/1M` | spawning 1 M services | service |
//! | `single/1M` | one operation on one service among 1 M | operation |
//! | `fail_path/10k` | `initialize` of 10 000 services whose ON_INIT hook fails, fail path included | service |
//! | `children/10k` | `initialize` / `start` / `stop` of a parent with 10 000 children | child |
//! | `attach/100k` | `spawn_children_with` of one child for each of 100 000 parents (`engine/spawn_children`), beside spawning the same 100 000 services with no parent (`engine/spawn_only`): the difference is the attach part; the baseline pushes 100 000 entity ids into `Vec<Vec<Entity>>` parent lists | child |
//! | `async_hook/100k` | `initialize` of 100 000 services whose ON_INIT hook hands one future each to tokio (yielding once) | service |
//!
//! Phases are state transitions, so every timed run needs a fleet in the right state: the benches
//! use `iter_custom` and build that fleet outside the timed region (and drop it after).
//!
//! Run with `CARGO_TARGET_DIR=/tmp/target-bench cargo bench --bench lifecycle`.

mod baseline;

use std::hint::black_box;
use std::time::{Duration, Instant};

use baseline::Service;
use bevy_ecs::prelude::*;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::service_kind;

/// The size of the large fleets.
const FLEET: usize = 1_000_000;
/// The size of the fail-path fleet and of the parent's family.
const SMALL: usize = 10_000;
/// The three lifecycle operations, in lifecycle order.
const OPERATIONS: [Operation; 3] = [Operation::Initialize, Operation::Start, Operation::Stop];
/// A stride coprime with [`FLEET`]: `single/1M` visits services in a scattered order, so that
/// neither side gets sequential-prefetch help.
const STRIDE: usize = 618_033;

/// The trivial hook's per-service data: how many hooks ran.
#[derive(Component, Default)]
struct Counter(u64);

service_kind! {
    /// The kind of the large fleets.
    struct BenchWorker: Lifecycle; requires [Counter]
}

service_kind! {
    /// The kind whose ON_INIT hook fails for every service.
    struct BenchFailer: Lifecycle; requires [Counter]
}

service_kind! {
    /// The parent of `children/10k` (no hooks of its own).
    struct BenchParent: Lifecycle
}

service_kind! {
    /// The children of `children/10k`.
    struct BenchChild: Lifecycle; requires [Counter]
}

/// The trivial hook, for workers.
fn count_workers(mut targets: Targets<BenchWorker, &mut Counter>) {
    targets.for_each(|_, mut counter| counter.0 += 1);
}

/// The trivial hook, for children.
fn count_children(mut targets: Targets<BenchChild, &mut Counter>) {
    targets.for_each(|_, mut counter| counter.0 += 1);
}

/// The trivial hook, for failers (their ON_STOP, run by the fail path).
fn count_failers(mut targets: Targets<BenchFailer, &mut Counter>) {
    targets.for_each(|_, mut counter| counter.0 += 1);
}

/// A failing ON_INIT hook: counts, then returns an error for every service.
fn fail_init(mut targets: Targets<BenchFailer, &mut Counter>) {
    targets.try_for_each(|_, mut counter| {
        counter.0 += 1;
        Err::<(), _>("init failed")
    });
}

/// Runs `operation` on `selection`.
fn run(engine: &mut Engine, operation: Operation, selection: Selection) -> OperationReport {
    match operation {
        Operation::Initialize => engine.initialize(selection),
        Operation::Start => engine.start(selection),
        Operation::Stop => engine.stop(selection),
    }
}

/// The operations a fleet must go through before `operation` can move it.
fn preceding(operation: Operation) -> &'static [Operation] {
    match operation {
        Operation::Initialize => &[],
        Operation::Start => &[Operation::Initialize],
        Operation::Stop => &[Operation::Initialize, Operation::Start],
    }
}

/// The baseline's name for `operation`.
const fn baseline_op(operation: Operation) -> baseline::Op {
    match operation {
        Operation::Initialize => baseline::Op::Initialize,
        Operation::Start => baseline::Op::Start,
        Operation::Stop => baseline::Op::Stop,
    }
}

/// An engine with the trivial hook registered for workers in all three phases.
fn worker_engine() -> Engine {
    let mut engine = Engine::new();
    for hook_type in [HookType::OnInit, HookType::OnStart, HookType::OnStop] {
        engine
            .add_hook::<BenchWorker, _>(hook_type, count_workers)
            .expect("BenchWorker provides the lifecycle hooks");
    }
    engine
}

/// `count` workers, ready for `operation` (the preceding operations done).
fn worker_fleet(count: usize, operation: Operation) -> (Engine, Vec<Entity>) {
    let mut engine = worker_engine();
    let workers = engine.spawn_batch(BenchWorker, count);
    for &before in preceding(operation) {
        let report = run(&mut engine, before, Selection::All);
        assert_eq!(
            report.moved,
            count,
            "setup: {} moves every worker",
            before.verb()
        );
    }
    (engine, workers)
}

/// `count` failers (ON_INIT fails, ON_STOP counts), CREATED.
fn failer_fleet(count: usize) -> Engine {
    let mut engine = Engine::new();
    engine
        .add_hook::<BenchFailer, _>(HookType::OnInit, fail_init)
        .expect("BenchFailer provides ON_INIT");
    engine
        .add_hook::<BenchFailer, _>(HookType::OnStop, count_failers)
        .expect("BenchFailer provides ON_STOP");
    engine.spawn_batch(BenchFailer, count);
    engine
}

/// A parent with `count` children (the trivial hook in all three phases), ready for `operation`.
fn family(count: usize, operation: Operation) -> (Engine, Entity) {
    let mut engine = Engine::new();
    for hook_type in [HookType::OnInit, HookType::OnStart, HookType::OnStop] {
        engine
            .add_hook::<BenchChild, _>(hook_type, count_children)
            .expect("BenchChild provides the lifecycle hooks");
    }
    let parent = engine.spawn(BenchParent);
    for child in engine.spawn_batch(BenchChild, count) {
        engine
            .attach_child(parent, child)
            .expect("a CREATED parent accepts children");
    }
    for &before in preceding(operation) {
        let report = run(&mut engine, before, Selection::Many(vec![parent]));
        assert_eq!(
            report.moved,
            count + 1,
            "setup: {} moves the family",
            before.verb()
        );
    }
    (engine, parent)
}

/// `services`, taken through the operations preceding `operation`.
fn baseline_ready(
    runtime: &tokio::runtime::Runtime,
    mut services: Vec<Box<dyn Service>>,
    operation: Operation,
) -> Vec<Box<dyn Service>> {
    for &before in preceding(operation) {
        let report = runtime.block_on(baseline::run_all(&mut services, baseline_op(before), false));
        assert_eq!(
            report.moved,
            services.len(),
            "setup: baseline {}",
            before.verb()
        );
    }
    services
}

/// Times `iters` runs of `routine`, each on a fresh fixture from `setup`. Only `routine` is timed;
/// the fixture and the routine's output are dropped after the clock stops.
fn timed_fresh<S, O>(
    iters: u64,
    mut setup: impl FnMut() -> S,
    mut routine: impl FnMut(&mut S) -> O,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut fixture = setup();
        let start = Instant::now();
        let output = routine(&mut fixture);
        total += start.elapsed();
        drop(black_box(output));
        drop(fixture);
    }
    total
}

/// A pre-built fleet on which single operations run, each on a service not used before.
trait Singles {
    /// How many services are still unused.
    fn remaining(&self) -> usize;
    /// Runs the operation on the next `count` unused services, one call each.
    fn run(&mut self, count: usize);
}

/// The scattered visiting order of a fleet of `count`: a permutation of `0..count`.
fn scattered(count: usize) -> impl Iterator<Item = usize> {
    (0..count).map(move |k| k * STRIDE % count)
}

/// Single engine operations on a fleet of [`FLEET`] workers.
struct EngineSingles {
    engine: Engine,
    operation: Operation,
    /// The workers in visiting order; `next` is the first unused one.
    order: Vec<Entity>,
    next: usize,
}

impl EngineSingles {
    /// A fleet ready for `operation`.
    fn new(operation: Operation) -> Self {
        let (engine, workers) = worker_fleet(FLEET, operation);
        let order = scattered(FLEET).map(|index| workers[index]).collect();
        Self {
            engine,
            operation,
            order,
            next: 0,
        }
    }
}

impl Singles for EngineSingles {
    fn remaining(&self) -> usize {
        self.order.len() - self.next
    }

    fn run(&mut self, count: usize) {
        for &worker in &self.order[self.next..self.next + count] {
            let report = run(&mut self.engine, self.operation, Selection::from(worker));
            assert_eq!(report.moved, 1);
            black_box(report);
        }
        self.next += count;
    }
}

/// Single baseline operations on a fleet of [`FLEET`] workers.
struct BaselineSingles {
    runtime: tokio::runtime::Runtime,
    services: Vec<Box<dyn Service>>,
    operation: baseline::Op,
    /// The indices in visiting order; `next` is the first unused one.
    order: Vec<usize>,
    next: usize,
}

impl BaselineSingles {
    /// A fleet ready for `operation`.
    fn new(operation: Operation) -> Self {
        let runtime = baseline::runtime();
        let services = baseline_ready(&runtime, baseline::workers(FLEET), operation);
        Self {
            runtime,
            services,
            operation: baseline_op(operation),
            order: scattered(FLEET).collect(),
            next: 0,
        }
    }
}

impl Singles for BaselineSingles {
    fn remaining(&self) -> usize {
        self.order.len() - self.next
    }

    /// One `block_on` for the whole chunk (the baseline's best case), one `run_op` per service.
    fn run(&mut self, count: usize) {
        let order = &self.order[self.next..self.next + count];
        let services = &mut self.services;
        let operation = self.operation;
        self.runtime.block_on(async {
            for &index in order {
                let outcome = baseline::run_op(services[index].as_mut(), operation).await;
                assert_eq!(outcome, baseline::Outcome::Moved);
            }
        });
        self.next += count;
    }
}

/// Times `iters` single operations on `fleet`, rebuilding it with `build` (untimed) whenever
/// every service in it has been used.
fn timed_singles<F: Singles>(iters: u64, fleet: &mut Option<F>, build: impl Fn() -> F) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = usize::try_from(iters).expect("iteration count fits in usize");
    while left > 0 {
        if fleet.as_ref().is_none_or(|fleet| fleet.remaining() == 0) {
            *fleet = None;
            *fleet = Some(build());
        }
        let fleet = fleet.as_mut().expect("a fleet was just built");
        let chunk = left.min(fleet.remaining());
        let start = Instant::now();
        fleet.run(chunk);
        total += start.elapsed();
        left -= chunk;
    }
    total
}

/// Checks once, on small fleets, that both sides do the work the benches claim to time.
fn sanity(_: &mut Criterion) {
    let count = 100;
    let runtime = baseline::runtime();

    // Phases: every hook runs once per service per phase.
    let (mut engine, workers) = worker_fleet(count, Operation::Initialize);
    for operation in OPERATIONS {
        assert_eq!(run(&mut engine, operation, Selection::All).moved, count);
    }
    let mut counters = engine.world_mut().query::<&Counter>();
    assert!(counters.iter(engine.world()).all(|counter| counter.0 == 3));
    assert_eq!(engine.state(workers[0]), Some(LifecycleState::Stopped));
    let mut services = baseline::workers(count);
    for operation in OPERATIONS {
        let report = runtime.block_on(baseline::run_all(
            &mut services,
            baseline_op(operation),
            false,
        ));
        assert_eq!(report.moved, count);
    }
    assert!(services.iter().all(|service| service.hook_calls() == 3));
    assert_eq!(
        baseline::state_of(services[0].as_mut()),
        baseline::State::Stopped
    );

    // Fail path: ON_INIT and ON_STOP run, every service ends FAILED with one error.
    let mut engine = failer_fleet(count);
    let report = engine.initialize(Selection::All);
    assert_eq!(report.failed.len(), count);
    let failed = report.failed[0].entity;
    assert_eq!(engine.state(failed), Some(LifecycleState::Failed));
    assert_eq!(engine.exit_errors(failed).len(), 1);
    assert_eq!(engine.world().get::<Counter>(failed).map(|c| c.0), Some(2));
    let mut services = baseline::failing_workers(count);
    let report = runtime.block_on(baseline::run_all(
        &mut services,
        baseline::Op::Initialize,
        false,
    ));
    assert_eq!(report.failed.len(), count);
    assert_eq!(
        baseline::state_of(services[0].as_mut()),
        baseline::State::Failed
    );
    assert_eq!(baseline::errors_of(services[0].as_mut()), 1);
    assert_eq!(services[0].hook_calls(), 2);

    // Children: each child's hooks run once per phase.
    let (mut engine, parent) = family(count, Operation::Initialize);
    for operation in OPERATIONS {
        assert_eq!(
            run(&mut engine, operation, Selection::Many(vec![parent])).moved,
            count + 1
        );
    }
    let mut counters = engine.world_mut().query::<&Counter>();
    assert_eq!(
        counters
            .iter(engine.world())
            .filter(|counter| counter.0 == 3)
            .count(),
        count
    );
    assert_eq!(engine.state(parent), Some(LifecycleState::Stopped));
    let mut services = baseline::parent_with_children(count);
    for operation in OPERATIONS {
        let report = runtime.block_on(baseline::run_all(
            &mut services,
            baseline_op(operation),
            false,
        ));
        assert_eq!(report.moved, 1);
    }
    assert_eq!(services[0].hook_calls(), 3 * count as u64);
}

/// `phase/1M`: one phase of 1 M workers, one trivial hook.
fn bench_phase(c: &mut Criterion) {
    let mut group = c.benchmark_group("phase/1M");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(FLEET as u64));
    let runtime = baseline::runtime();
    for operation in OPERATIONS {
        group.bench_function(BenchmarkId::new("engine", operation.verb()), |b| {
            b.iter_custom(|iters| {
                timed_fresh(
                    iters,
                    || worker_fleet(FLEET, operation).0,
                    |engine| {
                        let report = run(engine, operation, Selection::All);
                        assert_eq!(report.moved, FLEET);
                        report
                    },
                )
            });
        });
        group.bench_function(BenchmarkId::new("baseline", operation.verb()), |b| {
            b.iter_custom(|iters| {
                timed_fresh(
                    iters,
                    || baseline_ready(&runtime, baseline::workers(FLEET), operation),
                    |services| {
                        let op = baseline_op(operation);
                        let report = runtime.block_on(baseline::run_all(services, op, false));
                        assert_eq!(report.moved, FLEET);
                        report
                    },
                )
            });
        });
    }
    group.finish();
}

/// `spawn/1M`: spawning 1 M workers into a fresh engine (its hooks registered).
fn bench_spawn(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn/1M");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(FLEET as u64));
    group.bench_function("engine", |b| {
        b.iter_custom(|iters| {
            timed_fresh(iters, worker_engine, |engine| {
                engine.spawn_batch(BenchWorker, FLEET)
            })
        });
    });
    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| timed_fresh(iters, || (), |()| baseline::workers(FLEET)));
    });
    group.finish();
}

/// The size of the `attach/100k` batch.
const ATTACH: usize = 100_000;

/// An engine with [`ATTACH`] CREATED workers, the would-be parents.
fn parents_engine() -> (Engine, Vec<Entity>) {
    let mut engine = worker_engine();
    let parents = engine.spawn_batch(BenchWorker, ATTACH);
    (engine, parents)
}

/// `attach/100k`: one child for each of 100 000 parents in one `spawn_children_with`, beside
/// spawning the same services without parents (the attach part is the difference), and beside
/// the baseline's attach: pushing the children's ids into their parents' lists.
fn bench_attach(c: &mut Criterion) {
    let mut group = c.benchmark_group("attach/100k");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(ATTACH as u64));
    group.bench_function("engine/spawn_children", |b| {
        b.iter_custom(|iters| {
            timed_fresh(iters, parents_engine, |(engine, parents)| {
                let children = engine
                    .spawn_children_with(parents, BenchChild, 1, |_| Counter(0))
                    .expect("fits");
                assert_eq!(children.len(), ATTACH);
                children
            })
        });
    });
    group.bench_function("engine/spawn_only", |b| {
        b.iter_custom(|iters| {
            timed_fresh(iters, parents_engine, |(engine, _)| {
                engine.spawn_batch_with(BenchChild, ATTACH, |_| Counter(0))
            })
        });
    });
    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| {
            timed_fresh(
                iters,
                || {
                    let mut world = World::new();
                    let parents: Vec<Entity> = world.spawn_batch((0..ATTACH).map(|_| ())).collect();
                    let children: Vec<Entity> =
                        world.spawn_batch((0..ATTACH).map(|_| ())).collect();
                    let lists: Vec<Vec<Entity>> = vec![Vec::new(); parents.len()];
                    (children, lists)
                },
                |(children, lists)| {
                    for (list, &child) in lists.iter_mut().zip(children.iter()) {
                        list.push(black_box(child));
                    }
                },
            )
        });
    });
    group.finish();
}

/// `single/1M`: one operation on one worker among 1 M, a different worker each time. The first
/// fleet is built before criterion's warm-up, so its estimate of an iteration's cost is not
/// swamped by the build (which would leave only a few hundred, cache-cold, operations timed).
fn bench_single(c: &mut Criterion) {
    let mut group = c.benchmark_group("single/1M");
    group.throughput(Throughput::Elements(1));
    for operation in OPERATIONS {
        group.bench_function(BenchmarkId::new("engine", operation.verb()), |b| {
            let mut fleet = Some(EngineSingles::new(operation));
            b.iter_custom(|iters| {
                timed_singles(iters, &mut fleet, || EngineSingles::new(operation))
            });
        });
        group.bench_function(BenchmarkId::new("baseline", operation.verb()), |b| {
            let mut fleet = Some(BaselineSingles::new(operation));
            b.iter_custom(|iters| {
                timed_singles(iters, &mut fleet, || BaselineSingles::new(operation))
            });
        });
    }
    group.finish();
}

/// `fail_path/10k`: initializing 10 000 services whose ON_INIT fails (fail path included).
fn bench_fail_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("fail_path/10k");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(SMALL as u64));
    group.bench_function("engine", |b| {
        b.iter_custom(|iters| {
            timed_fresh(
                iters,
                || failer_fleet(SMALL),
                |engine| {
                    let report = engine.initialize(Selection::All);
                    assert_eq!(report.failed.len(), SMALL);
                    report
                },
            )
        });
    });
    let runtime = baseline::runtime();
    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| {
            timed_fresh(
                iters,
                || baseline::failing_workers(SMALL),
                |services| {
                    let op = baseline::Op::Initialize;
                    let report = runtime.block_on(baseline::run_all(services, op, false));
                    assert_eq!(report.failed.len(), SMALL);
                    report
                },
            )
        });
    });
    group.finish();
}

/// `children/10k`: one phase of a parent with 10 000 children.
fn bench_children(c: &mut Criterion) {
    let mut group = c.benchmark_group("children/10k");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(SMALL as u64));
    let runtime = baseline::runtime();
    for operation in OPERATIONS {
        group.bench_function(BenchmarkId::new("engine", operation.verb()), |b| {
            b.iter_custom(|iters| {
                timed_fresh(
                    iters,
                    || family(SMALL, operation),
                    |(engine, parent)| {
                        let report = run(engine, operation, Selection::Many(vec![*parent]));
                        assert_eq!(report.moved, SMALL + 1);
                        report
                    },
                )
            });
        });
        group.bench_function(BenchmarkId::new("baseline", operation.verb()), |b| {
            b.iter_custom(|iters| {
                timed_fresh(
                    iters,
                    || baseline_ready(&runtime, baseline::parent_with_children(SMALL), operation),
                    |services| {
                        let op = baseline_op(operation);
                        let report = runtime.block_on(baseline::run_all(services, op, false));
                        assert_eq!(report.moved, 1);
                        report
                    },
                )
            });
        });
    }
    group.finish();
}

/// How many services the async-hook bench moves.
const ASYNC_FLEET: usize = 100_000;

/// An ON_INIT hook that hands each worker a future yielding once (the async overhead alone).
fn yield_once(mut targets: Targets<BenchWorker>, mut tasks: HookTasks) {
    targets.for_each(|entity, ()| {
        tasks.spawn(entity, async {
            tokio::task::yield_now().await;
            Ok::<(), HookError>(())
        });
    });
}

/// `async_hook/100k`: the cost per service of an async hook (spawn, complete, report back), against
/// hand-written tokio: one task per service reporting over a crossbeam channel.
fn bench_async_hook(c: &mut Criterion) {
    let mut group = c.benchmark_group("async_hook/100k");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(ASYNC_FLEET as u64));
    group.bench_function("engine", |b| {
        b.iter_custom(|iters| {
            timed_fresh(
                iters,
                || {
                    let mut engine = Engine::new();
                    engine
                        .add_hook::<BenchWorker, _>(HookType::OnInit, yield_once)
                        .expect("workers provide ON_INIT");
                    engine.spawn_batch(BenchWorker, ASYNC_FLEET);
                    engine
                },
                |engine| {
                    let report = engine.initialize(Selection::All);
                    assert_eq!(report.moved, ASYNC_FLEET);
                    report
                },
            )
        });
    });
    let runtime = baseline::runtime();
    group.bench_function("baseline", |b| {
        b.iter_custom(|iters| {
            timed_fresh(
                iters,
                || (0..ASYNC_FLEET as u32).collect::<Vec<u32>>(),
                |ids| {
                    let (sender, receiver) = crossbeam_channel::unbounded();
                    runtime.block_on(async {
                        for &id in ids.iter() {
                            let sender = sender.clone();
                            tokio::spawn(async move {
                                tokio::task::yield_now().await;
                                let _ = sender.send((id, Ok::<(), String>(())));
                            });
                        }
                        let mut done = 0;
                        while done < ids.len() {
                            match receiver.try_recv() {
                                Ok(_) => done += 1,
                                Err(_) => tokio::task::yield_now().await,
                            }
                        }
                        done
                    })
                },
            )
        });
    });
    group.finish();
}

/// Small samples and short measurements: the machine has two cores and the fleets are large.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// Runs every group, as `criterion_group!` + `criterion_main!` would (written out so the entry
/// point carries no undocumented public item).
fn main() {
    let mut criterion = config().configure_from_args();
    sanity(&mut criterion);
    bench_phase(&mut criterion);
    bench_spawn(&mut criterion);
    bench_single(&mut criterion);
    bench_fail_path(&mut criterion);
    bench_children(&mut criterion);
    bench_attach(&mut criterion);
    bench_async_hook(&mut criterion);
    criterion.final_summary();
}
