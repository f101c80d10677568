//! CI use: no questions, one JSON event per line, the exit status tells the outcome.

use std::process::{Command, Stdio};

fn xwizard(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(dir).stdin(Stdio::null());
    cmd
}

#[test]
fn a_sandbox_run_with_yes_and_json_emits_only_json_events_and_deploys() {
    let dir = tempfile::tempdir().unwrap();
    let out = xwizard(dir.path())
        .args(["sandbox", "--yes", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stderr}\n{stdout}",
        out.status
    );

    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of_type = |t: &str| events.iter().filter(|e| e["type"] == t).collect::<Vec<_>>();
    assert_eq!(of_type("run_started").len(), 1);
    let started: Vec<&str> = of_type("step_started")
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        started,
        [
            "consumer-vpc",
            "register-targets",
            "producer",
            "scope-endpoint-policy",
            "consumer-api",
            "test"
        ]
    );
    // Each step says which account acts.
    for e in of_type("step_started") {
        let expected = if e["role"] == "producer" {
            "111111111111"
        } else {
            "222222222222"
        };
        assert_eq!(e["account_id"], expected, "{e}");
    }
    assert!(
        of_type("stack_event").len() > 50,
        "live stack events are streamed"
    );
    let checks = of_type("check");
    assert_eq!(checks.len(), 4);
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
    let finished = of_type("run_finished");
    assert_eq!(finished.last().unwrap()["status"], "deployed");
}

#[test]
fn a_missing_answer_without_a_terminal_is_an_error_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = xwizard(dir.path()).args(["new", "--yes"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing answer") && stderr.contains("--pattern"),
        "{stderr}"
    );

    let out = xwizard(dir.path())
        .args([
            "new",
            "--yes",
            "--pattern",
            "vpc-endpoint",
            "--name",
            "Bad_Name",
        ])
        .args([
            "--producer-profile",
            "a",
            "--consumer-profile",
            "b",
            "--region",
            "us-east-1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("Bad_Name") && stderr.contains("lowercase"),
        "{stderr}"
    );
}
