//! Which workers fail: exactly `floor(F·N)` of them, spread evenly by index.

/// A deterministic choice of `failing` workers out of `workers`, spread evenly by index.
///
/// Worker `i` fails when `⌊(i + 1)·m / n⌋ > ⌊i·m / n⌋` (`m` failing out of `n`): the running count
/// of failures steps up exactly `m` times over `0..n`, once every `n / m` workers.
#[derive(Clone, Copy, Debug)]
pub struct FailPlan {
    workers: usize,
    failing: usize,
}

impl FailPlan {
    /// A plan failing `failing` of `workers` workers (`failing` is capped at `workers`).
    pub fn new(workers: usize, failing: usize) -> Self {
        Self {
            workers,
            failing: failing.min(workers),
        }
    }

    /// How many workers fail.
    pub fn failing(self) -> usize {
        self.failing
    }

    /// Whether worker `index` fails.
    pub fn fails(self, index: usize) -> bool {
        if self.failing == 0 {
            return false;
        }
        let (m, n, i) = (self.failing as u128, self.workers as u128, index as u128);
        (i + 1) * m / n > i * m / n
    }

    /// The indices of the failing workers, ascending.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        (0..self.workers).filter(move |&index| self.fails(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_exactly_the_requested_count() {
        for (workers, failing) in [(2_000, 200), (999, 9), (7, 7), (7, 0), (1, 1), (10, 3)] {
            assert_eq!(FailPlan::new(workers, failing).indices().count(), failing);
        }
    }

    #[test]
    fn spreads_failures_evenly() {
        let indices: Vec<usize> = FailPlan::new(100, 10).indices().collect();
        assert_eq!(indices, vec![9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
    }

    #[test]
    fn caps_at_the_worker_count() {
        assert_eq!(FailPlan::new(5, 9).failing(), 5);
        assert!(FailPlan::new(5, 9).indices().eq(0..5));
    }
}
