//! The process's resident memory: current and peak RSS, from `/proc/self/status` on Linux.

/// The process's resident set size at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemorySample {
    /// Resident set size now (`VmRSS`), in bytes.
    pub current_rss: u64,
    /// The highest resident set size so far (`VmHWM`), in bytes.
    pub peak_rss: u64,
}

/// `/proc/self/status` could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The file could not be read.
    #[error("cannot read /proc/self/status: {0}")]
    Read(#[from] std::io::Error),
    /// A field is missing.
    #[error("/proc/self/status has no {0} line")]
    Missing(&'static str),
    /// A field's value is not `<number> kB`.
    #[error("/proc/self/status: cannot parse {field} value {value:?}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// Its text.
        value: String,
    },
}

/// Samples the process's memory. `Ok(None)` where it cannot be measured (off Linux).
///
/// # Errors
/// [`MemoryError`] if `/proc/self/status` cannot be read or parsed on Linux.
pub fn sample() -> Result<Option<MemorySample>, MemoryError> {
    if cfg!(target_os = "linux") {
        let status = std::fs::read_to_string("/proc/self/status")?;
        parse_status(&status).map(Some)
    } else {
        Ok(None)
    }
}

/// Reads `VmRSS` and `VmHWM` from the text of `/proc/<pid>/status`.
fn parse_status(status: &str) -> Result<MemorySample, MemoryError> {
    Ok(MemorySample {
        current_rss: field_bytes(status, "VmRSS")?,
        peak_rss: field_bytes(status, "VmHWM")?,
    })
}

/// The value of a `<field>:   <n> kB` line, in bytes.
fn field_bytes(status: &str, field: &'static str) -> Result<u64, MemoryError> {
    let value = status
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
        })
        .ok_or(MemoryError::Missing(field))?
        .trim();
    let malformed = || MemoryError::Malformed {
        field,
        value: value.to_owned(),
    };
    let kib = value.strip_suffix("kB").ok_or_else(malformed)?.trim();
    let kib: u64 = kib.parse().map_err(|_| malformed())?;
    kib.checked_mul(1024).ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tlifecycle-ecs\nVmPeak:\t  20000 kB\nVmHWM:\t    5120 kB\nVmRSS:\t    4096 kB\nThreads:\t1\n";

    #[test]
    fn parses_rss_and_peak() {
        let sample = parse_status(STATUS).expect("parses");
        assert_eq!(sample.current_rss, 4096 * 1024);
        assert_eq!(sample.peak_rss, 5120 * 1024);
    }

    #[test]
    fn reports_missing_and_malformed_fields() {
        assert!(matches!(
            parse_status("VmRSS:\t1 kB\n"),
            Err(MemoryError::Missing("VmHWM"))
        ));
        assert!(matches!(
            parse_status("VmRSS:\tmany kB\nVmHWM:\t1 kB\n"),
            Err(MemoryError::Malformed { field: "VmRSS", .. })
        ));
    }

    #[test]
    fn samples_this_process_on_linux() {
        let sample = sample().expect("readable");
        if cfg!(target_os = "linux") {
            let sample = sample.expect("measured on Linux");
            assert!(sample.current_rss > 0);
            assert!(sample.peak_rss >= sample.current_rss);
        } else {
            assert!(sample.is_none());
        }
    }
}
