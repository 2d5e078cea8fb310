//! The engine's per-service memory figure matches what spawning and moving services really
//! costs: the peak resident memory of a fleet, measured on Linux. Its own test binary with a
//! single test, as resident memory is the whole process's.

use bevy_ecs::prelude::*;
use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{footprint, service_kind};

service_kind! {
    /// A worker, as `lifecycle-ecs fleet` spawns them.
    pub struct Worker: Lifecycle
}

service_kind! {
    /// A worker's child.
    pub struct Helper: Lifecycle
}

/// A few bytes of per-service data.
#[derive(Component, Default, Clone, Copy)]
struct Calls(#[expect(dead_code, reason = "stored, never read: it only has to cost memory")] u32);

/// A `/proc/self/status` field, in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux has /proc");
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    kib * 1024
}

/// The peak resident bytes per service that `spawn` and a whole lifecycle add to a new engine
/// (the engine's own fixed cost is not counted).
fn measured_peak_per_service(services: usize, spawn: impl FnOnce(&mut Engine)) -> f64 {
    let mut engine = Engine::new();
    // A first lifecycle sets up what every engine builds once (its schedules, its runtime).
    let warm_up = engine.spawn(Lifecycle);
    let report = engine.initialize_and_start(warm_up);
    assert!(report.initialize.failed.is_empty() && report.start.failed.is_empty());
    // Writing 5 resets VmHWM to the current resident size (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").expect("the peak can be reset");
    let before = status_bytes("VmRSS");
    spawn(&mut engine);
    for report in [
        engine.initialize(Selection::All),
        engine.start(Selection::All),
        engine.stop(Selection::All),
    ] {
        assert!(report.failed.is_empty());
    }
    let peak = status_bytes("VmHWM");
    drop(engine);
    (peak - before) as f64 / services as f64
}

fn assert_close(what: &str, estimate: usize, measured: f64) {
    let estimate = estimate as f64;
    assert!(
        measured <= estimate * 1.1 && estimate <= measured * 1.25,
        "{what}: the figure says {estimate} bytes per service, the fleet took {measured:.1}"
    );
}

#[test]
fn the_per_service_figure_matches_the_measured_peak() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let workers = 400_000;
    let measured = measured_peak_per_service(workers, |engine| {
        engine
            .try_spawn_batch_with(Worker, workers, |_| Calls(0))
            .expect("fits");
    });
    assert_close(
        "workers",
        footprint::bytes_per_service::<Worker, Calls>(),
        measured,
    );

    // Children: 50 000 parents with 8 children each; the parents' share is taken out.
    let (parents, per_parent) = (50_000, 8);
    let children = parents * per_parent;
    let parent_bytes = footprint::bytes_per_service::<Worker, Calls>();
    let measured = measured_peak_per_service(children, |engine| {
        let workers = engine
            .try_spawn_batch_with(Worker, parents, |_| Calls(0))
            .expect("fits");
        engine
            .spawn_children_with(&workers, Helper, per_parent, |_| Calls(0))
            .expect("fits");
    }) - (parents * parent_bytes) as f64 / children as f64;
    assert_close(
        "children",
        footprint::bytes_per_child::<Helper, Calls>(),
        measured,
    );
}
