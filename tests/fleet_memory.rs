//! `lifecycle-ecs fleet` refuses, before spawning anything, a fleet that cannot fit in the memory
//! the process may use (exit 2 and a message), and runs one that fits.

use std::process::{Command, Output};

fn fleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifecycle-ecs"))
        .arg("fleet")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs")
}

fn assert_refused_for_memory(args: &[&str]) {
    let output = fleet(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    assert!(
        stderr.contains("memory"),
        "{args:?} explains the refusal: {stderr}"
    );
    assert!(output.stdout.is_empty(), "{args:?} did not run: {output:?}");
}

#[test]
fn four_billion_workers_are_refused_before_spawning() {
    assert_refused_for_memory(&["--workers", "4000000000"]);
}

#[test]
fn too_many_children_are_refused_before_spawning() {
    assert_refused_for_memory(&["--workers", "2", "--children", "2000000000"]);
}

#[test]
fn a_million_workers_fit_and_run() {
    let output = fleet(&["--workers", "1000000", "--hooks", "0"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1,000,000 services"), "{stdout}");
}
