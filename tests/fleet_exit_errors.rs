//! `lifecycle-ecs fleet` prints its exit errors with the library's panel (AIPerf's layout) at the
//! console's width: the terminal's, else `COLUMNS`, else 80; no colour codes into a pipe.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// Runs a fleet of 200 workers, 20 failing, with `COLUMNS` set to `columns` (or unset); returns
/// its standard output and the `--json` summary.
fn failing_fleet(columns: Option<&str>) -> (String, Value) {
    let json: PathBuf = std::env::temp_dir().join(format!(
        "lifecycle-ecs-fleet-exit-errors-{}-{}.json",
        std::process::id(),
        columns.unwrap_or("unset")
    ));
    let mut command = Command::new(env!("CARGO_BIN_EXE_lifecycle-ecs"));
    command
        .args(["fleet", "--workers", "200", "--fail-rate", "0.1", "--json"])
        .arg(&json)
        .env("RUST_LOG", "error")
        .env_remove("COLUMNS");
    if let Some(columns) = columns {
        command.env("COLUMNS", columns);
    }
    let output = command.output().expect("the binary runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let summary = std::fs::read_to_string(&json).expect("the run wrote its JSON");
    let _ = std::fs::remove_file(&json);
    (
        String::from_utf8(output.stdout).expect("UTF-8 output"),
        serde_json::from_str(&summary).expect("the JSON parses"),
    )
}

/// The panel's lines in the output: from its top border to its bottom border.
fn panel_lines(stdout: &str) -> Vec<&str> {
    let lines: Vec<&str> = stdout.lines().collect();
    let top = lines
        .iter()
        .position(|line| line.starts_with('╭'))
        .expect("a panel");
    let bottom = lines
        .iter()
        .position(|line| line.starts_with('╰'))
        .expect("a panel");
    lines[top..=bottom].to_vec()
}

fn examples(summary: &Value) -> Vec<String> {
    summary["exit_error_groups"][0]["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|id| id.as_str().expect("an id").to_owned())
        .collect()
}

#[test]
fn the_fleet_prints_the_library_panel_at_columns_width() {
    let (stdout, summary) = failing_fleet(Some("100"));
    assert!(!stdout.contains('\x1b'), "no colour codes into a pipe");
    let ids = examples(&summary);
    let services = format!("• Services: 20 services: {}, {}, etc.", ids[0], ids[1]);
    let expected = vec![
        format!(
            "╭─ exit errors (20 failed services, 1 distinct error) {}─╮",
            "─".repeat(44)
        ),
        format!("│ {services:<96} │"),
        format!("│ {:<96} │", "   Operation: Initializing"),
        format!("│ {:<96} │", "   Error: HookErrors"),
        format!(
            "│ {:<96} │",
            "   Reason: FleetWorker.init_0: injected init failure (--fail-rate)"
        ),
        format!("╰{}╯", "─".repeat(98)),
    ];
    assert_eq!(panel_lines(&stdout), expected);
    // The JSON keeps its shape: the group's fields, its examples the three smallest ids.
    let group = &summary["exit_error_groups"][0];
    let mut keys: Vec<&str> = group
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "code",
            "examples",
            "message",
            "operation",
            "services",
            "type"
        ]
    );
    assert_eq!(group["services"], 20);
    assert!(ids.is_sorted() && ids.len() == 3);
}

#[test]
fn a_narrow_columns_wraps_and_no_columns_means_eighty() {
    let (stdout, summary) = failing_fleet(Some("50"));
    let ids = examples(&summary);
    let expected = [
        "╭─ exit errors (20 failed services, 1 distinct e─╮".to_owned(),
        format!(
            "│ {:<46} │",
            format!("• Services: 20 services: {},", ids[0])
        ),
        format!("│ {:<46} │", format!("{}, etc.", ids[1])),
        format!("│ {:<46} │", "   Operation: Initializing"),
        format!("│ {:<46} │", "   Error: HookErrors"),
        format!("│ {:<46} │", "   Reason: FleetWorker.init_0: injected init"),
        format!("│ {:<46} │", "           failure (--fail-rate)"),
        format!("╰{}╯", "─".repeat(48)),
    ];
    assert_eq!(panel_lines(&stdout), expected);

    let (stdout, _) = failing_fleet(None);
    let panel = panel_lines(&stdout);
    assert!(
        panel.iter().all(|line| line.chars().count() == 80),
        "{panel:#?}"
    );
}
