//! `lifecycle-ecs fleet` reports the exact hook-failure total, beyond the failure window.

use std::process::Command;

use serde_json::Value;

#[test]
fn hook_failures_is_the_exact_total_beyond_the_failure_window() {
    let path = std::env::temp_dir().join(format!(
        "lifecycle-ecs-fleet-failure-total-{}.json",
        std::process::id()
    ));
    let output = Command::new(env!("CARGO_BIN_EXE_lifecycle-ecs"))
        .args([
            "fleet",
            "--workers",
            "30000",
            "--hooks",
            "1",
            "--fail-rate",
            "0.5",
        ])
        .arg("--json")
        .arg(&path)
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs");
    let text = std::fs::read_to_string(&path).expect("the run wrote its JSON");
    let _ = std::fs::remove_file(&path);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let json: Value = serde_json::from_str(&text).expect("the JSON parses");
    let failing: u64 = 15_000;
    assert!(failing > lifecycle_ecs::DEFAULT_FAILURE_WINDOW as u64);
    assert_eq!(json["failures"].as_u64(), Some(failing));
    assert_eq!(json["hook_failures"].as_u64(), Some(failing));
}
