//! The `error`-level log of named operations that failed (AIPerf's `Failed to <operation>: <error>`),
//! bounded per operation so a fleet-wide failure does not flood the log.

/// How many services get their own `Failed to …` line per operation; the rest are counted.
pub(crate) const FAILURE_LINES: usize = 100;

/// Logs `Failed to <operation lowercased>: <error>` at `error` level, once per service, for the
/// first [`FAILURE_LINES`] services of one operation; [`finish`](Self::finish) then logs one line
/// with the count of the rest.
#[derive(Debug, Default)]
pub(crate) struct FailureLog {
    logged: usize,
    /// Services counted, not logged.
    unlogged: usize,
    /// The operation of the first service counted (names the count line).
    unlogged_operation: Option<String>,
}

impl FailureLog {
    /// Logs (or counts) that `service` failed the named `operation` with `error`.
    pub(crate) fn failed(&mut self, service: &str, operation: &str, error: &str) {
        if self.logged < FAILURE_LINES {
            self.logged += 1;
            tracing::error!(
                service,
                operation,
                "Failed to {}: {error}",
                operation.to_lowercase()
            );
        } else {
            self.unlogged += 1;
            if self.unlogged_operation.is_none() {
                self.unlogged_operation = Some(operation.to_lowercase());
            }
        }
    }

    /// Logs how many failures were not logged one by one, if any.
    pub(crate) fn finish(self) {
        if self.unlogged > 0 {
            let operation = self.unlogged_operation.unwrap_or_default();
            tracing::error!(
                unlogged = self.unlogged,
                "{} more services failed to {operation} (only the first {FAILURE_LINES} are logged)",
                self.unlogged
            );
        }
    }
}
