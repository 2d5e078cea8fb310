//! The process's memory: current and peak RSS, from `/proc/self/status` on Linux; and how much
//! more it may use, from `/proc/meminfo` and its cgroup's limit.

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

/// How much memory the process may use, in bytes: the system's available memory
/// (`MemAvailable`), or its memory cgroup's limit when that is lower (cgroup v2 `memory.max` or v1
/// `memory.limit_in_bytes`, of its own cgroup and every ancestor). `None` where it cannot be
/// known (off Linux, or `/proc` unreadable).
pub fn usable_bytes() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let available = read("/proc/meminfo").and_then(|meminfo| mem_available(&meminfo))?;
    let limit = read("/proc/self/cgroup").and_then(|cgroup| cgroup_limit(&cgroup, &read));
    Some(limit.map_or(available, |limit| limit.min(available)))
}

/// `MemAvailable` from the text of `/proc/meminfo`, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    field_bytes(meminfo, "MemAvailable").ok()
}

/// The lowest memory limit of the process's cgroup and its ancestors, given the text of
/// `/proc/self/cgroup` and a way to read files; `None` without a limit.
fn cgroup_limit(cgroup: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<u64> {
    let mut lowest: Option<u64> = None;
    for line in cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (root, file) = if controllers.is_empty() {
            ("/sys/fs/cgroup", "memory.max")
        } else if controllers
            .split(',')
            .any(|controller| controller == "memory")
        {
            ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
        } else {
            continue;
        };
        // The cgroup and each ancestor up to the mount's root (which is the process's own
        // cgroup inside a cgroup namespace).
        let mut dir = path.trim_end_matches('/');
        loop {
            let limit = read(&format!("{root}{dir}/{file}"))
                .and_then(|text| text.trim().parse::<u64>().ok());
            if let Some(limit) = limit {
                lowest = Some(lowest.map_or(limit, |lowest| lowest.min(limit)));
            }
            match dir.rfind('/') {
                Some(parent) => dir = &dir[..parent],
                None => break,
            }
        }
    }
    lowest
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
    fn reads_available_memory() {
        let meminfo =
            "MemTotal:       24000000 kB\nMemFree:  1000 kB\nMemAvailable:   22000000 kB\n";
        assert_eq!(mem_available(meminfo), Some(22_000_000 * 1024));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
    }

    /// Reads from a fake file system.
    fn files(entries: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let entries: Vec<(String, String)> = entries
            .iter()
            .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
            .collect();
        move |path| {
            entries
                .iter()
                .find(|(known, _)| known == path)
                .map(|(_, text)| text.clone())
        }
    }

    #[test]
    fn takes_the_lowest_cgroup_v2_limit_on_the_way_up() {
        let read = files(&[
            ("/sys/fs/cgroup/jobs/one/memory.max", "max\n"),
            ("/sys/fs/cgroup/jobs/memory.max", "8589934592\n"),
        ]);
        assert_eq!(cgroup_limit("0::/jobs/one\n", &read), Some(8_589_934_592));
        assert_eq!(cgroup_limit("0::/\n", &read), None, "no limit at the root");
    }

    #[test]
    fn reads_the_cgroup_v1_memory_controller() {
        let read = files(&[
            (
                "/sys/fs/cgroup/memory/api/job/memory.limit_in_bytes",
                "1073741824\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            ("/sys/fs/cgroup/cpu/api/job/memory.limit_in_bytes", "1\n"),
        ]);
        let cgroup = "9:name=systemd:/\n4:memory:/api/job\n2:cpu,cpuacct:/api/job\n";
        assert_eq!(cgroup_limit(cgroup, &read), Some(1_073_741_824));
        // Inside a cgroup namespace only the mount's root may exist: its limit applies.
        let read = files(&[("/sys/fs/cgroup/memory/memory.limit_in_bytes", "4096\n")]);
        assert_eq!(cgroup_limit("4:memory:/api/job\n", &read), Some(4096));
    }

    #[test]
    fn usable_memory_is_known_on_linux() {
        let usable = usable_bytes();
        if cfg!(target_os = "linux") {
            assert!(usable.is_some_and(|bytes| bytes > 0));
        } else {
            assert!(usable.is_none());
        }
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
