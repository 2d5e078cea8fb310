//! Deadlines from durations: "that long, or never".
//!
//! Every `Instant + Duration` in the engine goes through [`after`]: a duration up to
//! [`Duration::MAX`] is valid everywhere (hook timeouts, the engine's default timeout, the soft
//! deadline, shutdown budgets, the task stop timeout, `run_until`), and a deadline past what the
//! clock can represent is `None`, "never", instead of the "overflow when adding duration to
//! instant" panic of a plain `+`.

use tokio::time::{Duration, Instant};

/// `at + wait`, or `None` ("never") past the clock's range.
pub(crate) fn after(at: Instant, wait: Duration) -> Option<Instant> {
    at.checked_add(wait)
}

/// `wait` from now, or `None` ("never") past the clock's range.
pub(crate) fn from_now(wait: Duration) -> Option<Instant> {
    after(Instant::now(), wait)
}

/// Waits until `deadline`; for `None` ("never"), forever.
///
/// # Cancel safety
/// Cancel-safe: it only waits on a timer.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_past_the_clock_is_never() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::MAX), None);
        assert_eq!(from_now(Duration::MAX), None);
        assert_eq!(
            after(now, Duration::from_secs(1)),
            Some(now + Duration::from_secs(1))
        );
        assert_eq!(after(now, Duration::ZERO), Some(now));
    }
}
