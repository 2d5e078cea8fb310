//! Before spawning: does the fleet fit in the memory the process may use? Estimated with the
//! engine's own per-service figure ([`lifecycle_ecs::footprint`]), compared with the available
//! memory or the cgroup limit ([`memory::usable_bytes`]).

use lifecycle_ecs::footprint;

use super::args::FleetArgs;
use super::kinds::{FailInit, FleetChild, FleetWorker, HookCalls};
use super::memory;

/// The memory a fleet needs, by the engine's figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FleetFootprint {
    /// Bytes per worker.
    pub per_worker: usize,
    /// Bytes per child.
    pub per_child: usize,
    /// Bytes of the whole fleet (a `u128`, saturated: no fleet size overflows it).
    pub total: u128,
}

impl FleetFootprint {
    /// The footprint of the fleet `args` describes: its workers, their children, and the failing
    /// workers again (marking them moves them to a table of their own).
    pub fn of(args: &FleetArgs) -> Self {
        let per_worker = footprint::bytes_per_service::<FleetWorker, HookCalls>();
        let per_child = footprint::bytes_per_child::<FleetChild, HookCalls>();
        let per_failing = footprint::bytes_per_service::<FleetWorker, (HookCalls, FailInit)>();
        let (workers, children) = (args.workers as u128, args.children as u128);
        let total = (workers.saturating_mul(per_worker as u128))
            .saturating_add(
                workers
                    .saturating_mul(children)
                    .saturating_mul(per_child as u128),
            )
            .saturating_add(args.failing_workers() as u128 * per_failing as u128);
        Self {
            per_worker,
            per_child,
            total,
        }
    }
}

/// Checks, before anything is spawned, that the fleet fits in the memory the process may use
/// (where that can be known).
///
/// # Errors
/// A message for the user when the estimate exceeds it.
pub fn check_memory(args: &FleetArgs) -> Result<(), String> {
    match memory::usable_bytes() {
        Some(usable) => fits(args, usable),
        None => Ok(()),
    }
}

/// Whether the fleet `args` describes fits in `usable` bytes.
fn fits(args: &FleetArgs, usable: u64) -> Result<(), String> {
    let footprint = FleetFootprint::of(args);
    if footprint.total <= u128::from(usable) {
        return Ok(());
    }
    let services = (args.workers as u128).saturating_mul(args.children as u128 + 1);
    let per_service = if args.children == 0 {
        format!("{} bytes per worker", footprint.per_worker)
    } else {
        format!(
            "{} bytes per worker, {} per child",
            footprint.per_worker, footprint.per_child
        )
    };
    Err(format!(
        "{services} services need about {} of memory ({per_service}), but this process may use {} (the available memory, or the cgroup limit when lower): use fewer --workers or --children",
        gigabytes(footprint.total),
        gigabytes(u128::from(usable)),
    ))
}

/// Bytes in GB, with one decimal.
fn gigabytes(bytes: u128) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: FleetArgs,
    }

    fn args(line: &[&str]) -> FleetArgs {
        Cli::parse_from(std::iter::once("fleet").chain(line.iter().copied())).args
    }

    #[test]
    fn the_estimate_follows_workers_children_and_failing_workers() {
        let base = FleetFootprint::of(&args(&["--workers", "1000"]));
        assert_eq!(base.total, 1000 * base.per_worker as u128);
        let family = FleetFootprint::of(&args(&["--workers", "1000", "--children", "3"]));
        assert_eq!(family.total, base.total + 3000 * family.per_child as u128);
        let failing = FleetFootprint::of(&args(&["--workers", "1000", "--fail-rate", "0.5"]));
        assert!(failing.total > base.total);
    }

    #[test]
    fn refuses_what_exceeds_the_usable_memory_and_says_why() {
        let fleet = args(&["--workers", "1000000"]);
        let needed = FleetFootprint::of(&fleet).total;
        let needed = u64::try_from(needed).expect("a million services fit in u64 bytes");
        assert!(fits(&fleet, needed).is_ok());
        let message = fits(&fleet, needed - 1).unwrap_err();
        assert!(
            message.starts_with("1000000 services need about 0.1 GB of memory"),
            "{message}"
        );
        assert!(message.contains("--workers"), "{message}");
    }

    #[test]
    fn the_largest_fleets_do_not_overflow_the_estimate() {
        let huge = args(&[
            "--workers",
            &usize::MAX.to_string(),
            "--children",
            &usize::MAX.to_string(),
        ]);
        assert!(fits(&huge, u64::MAX).is_err());
    }
}
