//! The `lifecycle-ecs fleet` command line: exit codes and the `--json` contract.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// A JSON path in the temporary directory, unique to this process and call, removed on drop.
struct TempJson(PathBuf);

impl TempJson {
    fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "lifecycle-ecs-fleet-{label}-{}-{n}.json",
            std::process::id()
        );
        Self(std::env::temp_dir().join(name))
    }

    fn read(&self) -> Value {
        let text = std::fs::read_to_string(&self.0).expect("the run wrote its JSON");
        serde_json::from_str(&text).expect("the JSON parses")
    }
}

impl Drop for TempJson {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifecycle-ecs"))
        .arg("fleet")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs")
}

fn fleet_json(label: &str, args: &[&str]) -> (Output, Value) {
    let json = TempJson::new(label);
    let path = json.0.to_str().expect("a UTF-8 temporary path");
    let mut all = args.to_vec();
    all.extend(["--json", path]);
    let output = fleet(&all);
    (output, json.read())
}

fn count(value: &Value, pointer: &str) -> u64 {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} is a count in {value}"))
}

#[test]
fn failing_workers_fail_and_their_children_stop() {
    let (output, json) = fleet_json(
        "failing",
        &[
            "--workers",
            "2000",
            "--hooks",
            "2",
            "--fail-rate",
            "0.1",
            "--children",
            "2",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(count(&json, "/workers"), 2_000);
    assert_eq!(count(&json, "/services"), 6_000);
    assert_eq!(count(&json, "/failures"), 200);
    assert_eq!(count(&json, "/final_states/failed"), 200);
    // A failed worker's children were initialized, then stopped on the worker's fail path.
    assert_eq!(count(&json, "/final_states/stopped"), 5_800);
    assert_eq!(count(&json, "/hook_failures"), 200);
    // Every hook ran for every service it should: K·(1 + C)·(3N − failed) calls (a failed worker
    // and its children skip ON_START; ON_STOP runs on the fail path).
    assert_eq!(count(&json, "/hook_calls"), 2 * 3 * (3 * 2_000 - 200));
    let groups = json["exit_error_groups"].as_array().expect("an array");
    assert_eq!(groups.len(), 1);
    assert_eq!(count(&groups[0], "/services"), 200);
    assert_eq!(groups[0]["operation"], "Initializing");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("injected init failure"), "{stdout}");
}

#[test]
fn a_clean_run_stops_every_service_and_reports_every_field() {
    let (output, json) = fleet_json("clean", &["--workers", "500", "--children", "1"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(count(&json, "/services"), 1_000);
    assert_eq!(count(&json, "/final_states/stopped"), 1_000);
    assert_eq!(count(&json, "/failures"), 0);
    assert_eq!(count(&json, "/hook_failures"), 0);
    assert_eq!(json["clean"], true);
    let states = json["final_states"].as_object().expect("an object");
    assert_eq!(states.len(), 8);
    for phase in ["spawn", "initialize", "start", "stop"] {
        let stats = &json["phases"][phase];
        let total = stats["total_s"].as_f64().expect("total_s is a number");
        let per_service = stats["ns_per_service"]
            .as_f64()
            .expect("ns_per_service is a number");
        assert!(total > 0.0, "{phase}: {stats}");
        assert!(
            (per_service - total * 1e9 / 1_000.0).abs() <= 1e-6 * per_service,
            "{phase}: {stats}"
        );
    }
    if cfg!(target_os = "linux") {
        assert!(count(&json, "/peak_rss_bytes") > 0);
        assert!(json["bytes_per_service"].as_f64().is_some());
    }
}

#[test]
fn usage_errors_exit_with_code_2() {
    for args in [
        &["--fail-rate", "2"][..],
        &["--fail-rate", "-0.5"],
        &["--workers", "abc"],
        &["--workers", "0"],
        &["--hooks", "0", "--fail-rate", "0.5", "--workers", "10"],
        &["--no-such-flag"],
    ] {
        let output = fleet(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(!output.stderr.is_empty(), "{args:?} explains the error");
    }
}

#[test]
fn async_hooks_count_like_sync_ones() {
    let (output, json) = fleet_json(
        "async",
        &["--workers", "1000", "--async-hooks", "--fail-rate", "0.05"],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(json.pointer("/async_hooks"), Some(&Value::Bool(true)));
    assert_eq!(count(&json, "/failures"), 50);
    assert_eq!(count(&json, "/hook_failures"), 50);
    assert_eq!(count(&json, "/final_states/failed"), 50);
    assert_eq!(count(&json, "/final_states/stopped"), 950);
}

#[test]
fn background_heartbeats_run_while_running_and_leak_nothing() {
    let (output, json) = fleet_json(
        "background",
        &[
            "--workers",
            "200",
            "--background-interval",
            "20",
            "--duration",
            "0.2",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(count(&json, "/background/leaked_tasks"), 0);
    let runs = count(&json, "/background/runs");
    // 200 workers × (0.2 s / 20 ms) = 2 000 ideal runs (the immediate first run adds one per worker).
    assert!((1_800..=2_400).contains(&runs), "{runs} runs");
    assert!(
        json.pointer("/background/runs_per_s")
            .and_then(Value::as_f64)
            .unwrap()
            > 0.0
    );
    assert!(
        json.pointer("/phases/stop/drain_s")
            .and_then(Value::as_f64)
            .is_some()
    );
}

#[test]
fn async_background_tasks_run_and_are_all_awaited_at_stop() {
    let (output, json) = fleet_json(
        "async_background",
        &[
            "--workers",
            "200",
            "--background-interval",
            "20",
            "--background-mode",
            "async",
            "--duration",
            "0.2",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        json.pointer("/background/mode").and_then(Value::as_str),
        Some("async")
    );
    assert_eq!(count(&json, "/background/leaked_tasks"), 0);
    let runs = count(&json, "/background/runs");
    assert!((1_800..=2_400).contains(&runs), "{runs} runs");
}

#[cfg(unix)]
#[test]
fn a_signal_stops_the_fleet_gracefully_and_exits_130() {
    let child = Command::new(env!("CARGO_BIN_EXE_lifecycle-ecs"))
        .args([
            "fleet",
            "--workers",
            "1000",
            "--background-interval",
            "50",
            "--duration",
            "60",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let started = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let output = child.wait_with_output().expect("the fleet exits");
    assert_eq!(output.status.code(), Some(130));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "it did not wait out --duration"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("every service stopped cleanly"), "{stdout}");
    assert!(stdout.contains("0 leaked"), "{stdout}");
}
