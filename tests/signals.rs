//! `run_with_signals` catches SIGINT/SIGTERM only while it runs, and starts no thread per call.
//!
//! Each scenario runs in a child process (this test binary re-run with one scenario), so its
//! signals and threads are its own: the parent checks how the child ended.

#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};
use std::time::Duration;

use lifecycle_ecs::prelude::*;
use lifecycle_ecs::{BackgroundTaskParams, DEFAULT_SHUTDOWN_BUDGET};
use signal_hook::consts::{SIGINT, SIGTERM};

const SCENARIO: &str = "LIFECYCLE_SIGNALS_SCENARIO";

/// Runs `scenario` in a child copy of this test binary.
fn run_child(scenario: &str) -> Output {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--exact",
            "child_scenario",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SCENARIO, scenario)
        .env("RUST_LOG", "off")
        .output()
        .expect("the child runs")
}

/// The child's side: does what `LIFECYCLE_SIGNALS_SCENARIO` names (nothing when unset).
#[test]
fn child_scenario() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    match scenario.as_str() {
        "sigint_after_run" => raise_after_a_run(SIGINT),
        "sigterm_after_run" => raise_after_a_run(SIGTERM),
        "signal_during_run_then_after" => signal_during_run_then_after(),
        "threads" => count_threads_over_many_runs(),
        other => panic!("unknown scenario {other}"),
    }
}

/// One run that ends by its limit, then `signal`: the process must end by it.
fn raise_after_a_run(signal: i32) {
    let mut engine = Engine::new();
    let service = engine.spawn(Lifecycle);
    engine.initialize_and_start(service);
    let run = engine
        .runtime()
        .block_on(engine.run_with_signals(Some(Duration::from_millis(5)), DEFAULT_SHUTDOWN_BUDGET));
    assert_eq!(run.end, RunEnd::Completed);
    println!("run returned");
    signal_hook::low_level::raise(signal).expect("the signal is raised");
    println!("survived the signal");
}

/// A background task raises SIGINT while the run listens: the run ends and stops everything
/// gracefully; then SIGTERM ends the process.
fn signal_during_run_then_after() {
    fn raise_sigint(_targets: Targets<Lifecycle>) {
        signal_hook::low_level::raise(SIGINT).expect("the signal is raised");
    }
    let mut engine = Engine::new();
    engine
        .add_background_task::<Lifecycle, _>(
            HookConfig::named("interrupt"),
            BackgroundTaskParams::once(),
            raise_sigint,
        )
        .unwrap();
    let service = engine.spawn(Lifecycle);
    engine.initialize_and_start(service);
    let run = engine
        .runtime()
        .block_on(engine.run_with_signals(None, DEFAULT_SHUTDOWN_BUDGET));
    assert_eq!(run.end, RunEnd::ShutdownRequested);
    let shutdown = run.shutdown.expect("a signal leads to a shutdown");
    assert!(!shutdown.aborted);
    assert_eq!(engine.state(service), Some(LifecycleState::Stopped));
    println!("run ended by the signal");
    signal_hook::low_level::raise(SIGTERM).expect("the signal is raised");
    println!("survived the signal");
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("Linux lists the process's threads")
        .count()
}

fn count_threads_over_many_runs() {
    let mut engine = Engine::new();
    let runtime = engine.runtime();
    let before = threads();
    for _ in 0..50 {
        let run = runtime.block_on(engine.run_with_signals(None, DEFAULT_SHUTDOWN_BUDGET));
        assert_eq!(run.end, RunEnd::AllEnded);
    }
    let after = threads();
    println!("threads before {before}, after {after}");
    assert!(
        after <= before + 1,
        "at most one signal watcher for the process: {before} threads before, {after} after"
    );
}

/// Runs `scenario` in a child that inherits SIGINT ignored (as a shell's background job does).
fn run_child_ignoring_sigint(scenario: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("trap '' INT; exec \"$0\" --exact child_scenario --nocapture --test-threads=1")
        .arg(std::env::current_exe().expect("the test binary's path"))
        .env(SCENARIO, scenario)
        .env("RUST_LOG", "off")
        .output()
        .expect("the child runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn sigint_after_a_run_returned_ends_the_process_as_by_default() {
    let output = run_child("sigint_after_run");
    assert!(stdout(&output).contains("run returned"), "{output:?}");
    assert_eq!(output.status.signal(), Some(SIGINT), "{output:?}");
}

#[test]
fn sigterm_after_a_run_returned_ends_the_process_as_by_default() {
    let output = run_child("sigterm_after_run");
    assert!(stdout(&output).contains("run returned"), "{output:?}");
    assert_eq!(output.status.signal(), Some(SIGTERM), "{output:?}");
}

#[test]
fn a_signal_during_the_run_stops_it_and_one_after_ends_the_process() {
    let output = run_child("signal_during_run_then_after");
    assert!(
        stdout(&output).contains("run ended by the signal"),
        "{output:?}"
    );
    assert_eq!(output.status.signal(), Some(SIGTERM), "{output:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn fifty_runs_start_no_thread_per_run() {
    let output = run_child("threads");
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn sigint_ignored_before_a_run_stays_ignored_after_it() {
    let output = run_child_ignoring_sigint("sigint_after_run");
    assert!(
        stdout(&output).contains("survived the signal"),
        "{output:?}"
    );
    assert!(output.status.success(), "{output:?}");
}
