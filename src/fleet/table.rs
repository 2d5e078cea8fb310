//! The fleet results as a human-readable table.

use std::io::{self, Write};

use lifecycle_ecs::LifecycleState;
use lifecycle_ecs::exit_report::ExitErrorPanel;

use super::summary::{FleetSummary, PhaseStats};

/// Prints `summary` as a table: phases, final states, hooks, memory, and the exit errors in
/// AIPerf's panel drawn as `panel` says (its width and colour).
///
/// # Errors
/// If `out` cannot be written.
pub fn print(
    summary: &FleetSummary,
    panel: &ExitErrorPanel,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(
        out,
        "lifecycle-ecs {} fleet: {} workers × (1 + {} children) = {} services; {} {} per phase and kind; fail rate {} ({} failing workers)",
        summary.version,
        thousands(summary.workers as u64),
        summary.children,
        thousands(summary.services as u64),
        summary.hooks,
        plural(summary.hooks, "hook", "hooks"),
        summary.fail_rate,
        thousands(summary.failing_workers as u64),
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<12}{:>12}{:>13}{:>12}{:>10}{:>10}{:>10}",
        "phase", "total", "ns/service", "moved", "failed", "ignored", "invalid"
    )?;
    let phases = &summary.phases;
    phase_row(out, "spawn", &phases.spawn.stats)?;
    phase_row(out, "initialize", &phases.initialize)?;
    phase_row(out, "start", &phases.start)?;
    phase_row(out, "stop", &phases.stop.stats)?;
    if summary.children > 0 {
        writeln!(
            out,
            "  (spawn includes {} attaching children)",
            duration(phases.spawn.attach_s)
        )?;
    }
    writeln!(out)?;

    let states: Vec<String> = LifecycleState::ALL
        .into_iter()
        .map(|state| {
            format!(
                "{} {}",
                state.name(),
                thousands(summary.final_states.get(state) as u64)
            )
        })
        .collect();
    writeln!(out, "final states  {}", states.join(" · "))?;
    writeln!(
        out,
        "hooks         {} hook systems, {} calls, {} hook {}",
        summary.hook_systems,
        thousands(summary.hook_calls),
        thousands(summary.hook_failures as u64),
        plural(summary.hook_failures, "failure", "failures"),
    )?;
    if let Some(interval) = summary.background.interval_ms {
        let background = &summary.background;
        let achieved = if background.ideal_runs_per_s > 0.0 {
            100.0 * background.runs_per_s / background.ideal_runs_per_s
        } else {
            0.0
        };
        writeln!(
            out,
            "background    {:?} heartbeat every {interval} ms: {} runs in {:.2} s = {:.0} runs/s ({achieved:.1} % of ideal); {} leaked; stop drained in {}",
            background.mode,
            thousands(background.runs),
            background.duration_s,
            background.runs_per_s,
            background.leaked_tasks,
            duration(summary.phases.stop.drain_s),
        )?;
    }
    match (
        summary.peak_rss_bytes,
        summary.rss_before_spawn_bytes,
        summary.bytes_per_service,
    ) {
        (Some(peak), Some(before), Some(per_service)) => writeln!(
            out,
            "memory        peak RSS {}, {} before spawning → {per_service:.1} bytes/service",
            mebibytes(peak),
            mebibytes(before),
        )?,
        _ => writeln!(out, "memory        not measured on this platform")?,
    }
    writeln!(out)?;
    exit_errors(out, panel, summary)?;
    let verdict = if summary.clean {
        "every service stopped cleanly".to_owned()
    } else {
        format!(
            "{} of {} services failed",
            thousands(summary.failures as u64),
            thousands(summary.services as u64)
        )
    };
    writeln!(out, "result        {verdict}")
}

fn phase_row(out: &mut impl Write, name: &str, stats: &PhaseStats) -> io::Result<()> {
    writeln!(
        out,
        "{name:<12}{:>12}{:>13.1}{:>12}{:>10}{:>10}{:>10}",
        duration(stats.total_s),
        stats.ns_per_service,
        thousands(stats.moved as u64),
        thousands(stats.failed as u64),
        thousands(stats.ignored as u64),
        thousands(stats.invalid as u64),
    )
}

/// The exit-error panel (the library's, AIPerf's layout): one entry per group of identical error
/// details, titled with the number of failed services and distinct errors.
fn exit_errors(
    out: &mut impl Write,
    panel: &ExitErrorPanel,
    summary: &FleetSummary,
) -> io::Result<()> {
    if summary.exit_error_groups.is_empty() {
        return Ok(());
    }
    let title = format!(
        "exit errors ({} failed services, {} distinct {})",
        thousands(summary.failures as u64),
        summary.exit_error_group_count,
        plural(summary.exit_error_group_count, "error", "errors"),
    );
    panel
        .clone()
        .with_title(title)
        .print(&summary.exit_error_groups, out)?;
    let hidden = summary.exit_error_group_count - summary.exit_error_groups.len();
    if hidden > 0 {
        writeln!(out, "  … and {hidden} more distinct errors")?;
    }
    writeln!(out)
}

fn plural(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 { one } else { many }
}

/// `1234567` → `"1,234,567"`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Seconds, in the unit that reads best.
fn duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.1} µs", seconds * 1e6)
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_reading() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(2.5), "2.500 s");
        assert_eq!(duration(0.0123), "12.3 ms");
        assert_eq!(duration(0.000_012_3), "12.3 µs");
        assert_eq!(mebibytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
