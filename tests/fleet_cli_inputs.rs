//! `lifecycle-ecs fleet` input checks: durations and intervals it cannot honour and `--json` paths
//! it cannot write are usage errors (exit 2) found before the run; `--duration inf` runs until a
//! signal.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous guard against a regression hanging the test (never reached when it works).
const HANG_GUARD: Duration = Duration::from_secs(120);

fn fleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifecycle-ecs"))
        .arg("fleet")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs")
}

fn assert_usage_error(args: &[&str], explanation: &str) {
    let output = fleet(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(explanation), "{args:?}: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "{args:?}: nothing ran, so no table: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn durations_it_cannot_honour_exit_with_code_2_and_say_why() {
    for (duration, explanation) in [
        ("--duration=NaN", "is not a number of seconds"),
        ("--duration=-1", "cannot be negative"),
        ("--duration=-inf", "cannot be negative"),
        ("--duration=1e30", "longer than the clock can count"),
        ("--duration=1e19", "longer than the clock can count"),
        ("--duration=soon", "is not a number of seconds"),
    ] {
        assert_usage_error(&["--workers", "1", duration], explanation);
    }
}

#[test]
fn a_zero_background_interval_exits_with_code_2() {
    assert_usage_error(
        &["--workers", "1", "--background-interval", "0"],
        "at least 1 ms",
    );
}

/// A big fleet for a long time: the checks must refuse it before anything is spawned.
const BIG_LONG_RUN: [&str; 4] = ["--workers", "2000000", "--duration", "3600"];

fn assert_json_refused_before_the_run(path: &Path) {
    let started = Instant::now();
    let path = path.to_str().expect("a UTF-8 path");
    let mut args = BIG_LONG_RUN.to_vec();
    args.extend(["--json", path]);
    assert_usage_error(&args, "cannot write the JSON results to");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "refused before running for an hour"
    );
}

fn temp_path(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "lifecycle-ecs-fleet-{label}-{}",
        std::process::id()
    ))
}

#[test]
fn a_json_path_that_is_a_directory_is_refused_before_the_run() {
    assert_json_refused_before_the_run(&std::env::temp_dir());
}

#[test]
fn a_json_path_in_a_missing_folder_is_refused_and_no_folder_is_created() {
    let missing = temp_path("missing-folder");
    assert_json_refused_before_the_run(&missing.join("results.json"));
    assert!(!missing.exists(), "the folder was not created");
}

#[cfg(target_os = "linux")]
#[test]
fn an_unwritable_json_path_is_refused_before_the_run() {
    // Read-only for every user, root included.
    assert_json_refused_before_the_run(Path::new("/proc/sys/kernel/osrelease"));
}

#[cfg(unix)]
#[test]
fn duration_inf_runs_until_sigterm_then_stops_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifecycle-ecs"))
        .args(["fleet", "--workers", "100", "--background-interval", "20"])
        .args(["--duration", "inf"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    let running = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("RUNNING until SIGINT or SIGTERM"));
    assert!(running, "the fleet said it runs until a signal");
    // The line comes just before the signal listener is installed: leave it time to be.
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    loop {
        if child.try_wait().expect("waits on the child").is_some() {
            break;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("the fleet did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the fleet exited");
    assert_eq!(output.status.code(), Some(130));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("every service stopped cleanly"), "{stdout}");
}
