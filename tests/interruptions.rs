//! What interrupts a real run, and how it carries on:
//! - the binary is killed (SIGKILL, nothing saved on the way out) while a stack is being made
//!   and while cleanup deletes one; `xwizard resume` and `xwizard destroy` then work from what
//!   the accounts really have;
//! - a profile's credentials expire mid-run; the step stops saying which profile to sign in
//!   again with, and `xwizard resume` finishes once it has.
//!
//! Each test uses its own running sandbox from a second shell, as a workshop would
//! (`eval "$(xwizard sandbox env)"`).

mod common;

use common::shell::{
    PRESET, checks_passed, finish, finish_with, kill, said_nothing_is_left, shell_on_a_sandbox,
    stack_reaches, wait_event,
};
use std::path::Path;

use xwizard::state::{StepStatus, Store};

const NAME: &str = "interrupted";

/// A new run on `shell` with its network stack held in progress: the child, its events and
/// those seen up to the stack's start.
fn new_run_held_at_the_network_stack(
    shell: &common::shell::Shell,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<serde_json::Value>,
    Vec<serde_json::Value>,
) {
    let vpc_stack = format!("xw-{NAME}-consumer-vpc");
    shell.ok(&["sandbox", "fault", "hold", &vpc_stack]);
    let (child, rx) = shell.spawn(&["new", "--yes", "--json", "--preset", PRESET, "--name", NAME]);
    let seen = wait_event(
        &rx,
        "the network stack in progress",
        stack_reaches(&vpc_stack, "CREATE_IN_PROGRESS"),
    );
    (child, rx, seen)
}

fn status_of(dir: &Path, step: &str) -> StepStatus {
    Store::new(dir).load(NAME).unwrap().step(step).status
}

#[test]
fn a_run_killed_mid_stack_resumes_and_a_cleanup_killed_mid_delete_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let producer_stack = format!("xw-{NAME}-producer");
    let vpc_stack = format!("xw-{NAME}-consumer-vpc");

    // Killed while the producer stack is being made.
    shell.ok(&["sandbox", "fault", "hold", &producer_stack]);
    let (mut child, rx) =
        shell.spawn(&["new", "--yes", "--json", "--preset", PRESET, "--name", NAME]);
    wait_event(
        &rx,
        "the producer stack in progress",
        stack_reaches(&producer_stack, "CREATE_IN_PROGRESS"),
    );
    kill(&mut child);
    assert_eq!(status_of(dir.path(), "consumer-vpc"), StepStatus::Done);
    assert_eq!(status_of(dir.path(), "producer"), StepStatus::Running);

    // Resume finds the stack still going, follows it instead of starting another, and
    // finishes the run.
    let (child, rx) = shell.spawn(&["resume", NAME, "--yes", "--json"]);
    let seen = wait_event(&rx, "resume following the stack", |e| {
        e["type"] == "info"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("CREATE_IN_PROGRESS: following it"))
    });
    shell.ok(&["sandbox", "fault", "release", &producer_stack]);
    let events = finish(child, rx, seen);
    let started: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "step_started")
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(
        started,
        ["producer", "scope-endpoint-policy", "consumer-api", "test"],
        "the steps done before the kill were not run again"
    );
    checks_passed(&events);

    // Killed while cleanup deletes the network stack (the last wave).
    shell.ok(&["sandbox", "fault", "hold", &vpc_stack]);
    let (mut child, rx) = shell.spawn(&["destroy", NAME, "--yes", "--json"]);
    wait_event(
        &rx,
        "the network stack being deleted",
        stack_reaches(&vpc_stack, "DELETE_IN_PROGRESS"),
    );
    kill(&mut child);
    assert_eq!(status_of(dir.path(), "producer"), StepStatus::Destroyed);
    assert_ne!(status_of(dir.path(), "consumer-vpc"), StepStatus::Destroyed);

    // Destroy again: it picks up the half-deleted stack and reports nothing left.
    let (child, rx) = shell.spawn(&["destroy", NAME, "--yes", "--json"]);
    let seen = wait_event(&rx, "the second cleanup reaching the network stack", |e| {
        e["type"] == "step_started" && e["step"] == "consumer-vpc"
    });
    shell.ok(&["sandbox", "fault", "release", &vpc_stack]);
    let events = finish(child, rx, seen);
    said_nothing_is_left(&events);
    for step in ["consumer-vpc", "producer", "consumer-api", "test"] {
        assert_eq!(status_of(dir.path(), step), StepStatus::Destroyed, "{step}");
    }
}

#[test]
fn credentials_expiring_mid_run_stop_the_step_naming_the_profile_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let vpc_stack = format!("xw-{NAME}-consumer-vpc");

    // The producer's session runs out while the consumer's first stack is being made.
    let (child, rx, seen) = new_run_held_at_the_network_stack(&shell);
    shell.ok(&["sandbox", "fault", "expire", "producer"]);
    shell.ok(&["sandbox", "fault", "release", &vpc_stack]);
    let events = finish_with(child, rx, seen, 2);
    let failed = events
        .iter()
        .find(|e| e["type"] == "step_failed")
        .expect("a failed step");
    assert_eq!(failed["step"], "producer", "{failed:#}");
    let message = failed["message"].as_str().unwrap();
    assert!(message.contains("ExpiredToken"), "{message}");
    let next = failed["next"].as_str().unwrap();
    for part in [
        "profile sandbox-producer have expired",
        "aws sso login --profile sandbox-producer",
        &format!("xwizard resume {NAME}"),
    ] {
        assert!(next.contains(part), "{part:?} not in {next:?}");
    }
    assert_eq!(status_of(dir.path(), "consumer-vpc"), StepStatus::Done);
    assert_eq!(status_of(dir.path(), "producer"), StepStatus::Failed);

    // Signed in again: resume carries on from the producer step.
    shell.ok(&["sandbox", "fault", "renew", "producer"]);
    let (child, rx) = shell.spawn(&["resume", NAME, "--yes", "--json"]);
    let events = finish(child, rx, Vec::new());
    let first = events.iter().find(|e| e["type"] == "step_started").unwrap();
    assert_eq!(first["step"], "producer");
    checks_passed(&events);
}

#[test]
fn ctrl_c_stops_the_waiting_not_the_work_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let producer_stack = format!("xw-{NAME}-producer");

    shell.ok(&["sandbox", "fault", "hold", &producer_stack]);
    let (child, rx) = shell.spawn(&["new", "--yes", "--json", "--preset", PRESET, "--name", NAME]);
    let seen = wait_event(
        &rx,
        "the producer stack in progress",
        stack_reaches(&producer_stack, "CREATE_IN_PROGRESS"),
    );
    // SAFETY: kill(2) on our own child's pid; no memory is touched.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let events = finish_with(child, rx, seen, 130);
    let last = events.last().unwrap();
    assert_eq!(
        (&last["type"], &last["status"]),
        (&"run_finished".into(), &"interrupted".into()),
        "{events:#?}"
    );
    assert!(events.iter().any(|e| {
        e["type"] == "info"
            && e["step"] == "producer"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("interrupted here"))
    }));
    let said = std::fs::read_to_string(shell.stderr_log()).unwrap();
    assert!(
        said.contains(&format!("`xwizard resume {NAME}` picks it up")),
        "{said}"
    );
    assert_eq!(status_of(dir.path(), "producer"), StepStatus::Running);

    // The stack carried on meanwhile; resume takes it from there.
    shell.ok(&["sandbox", "fault", "release", &producer_stack]);
    let (child, rx) = shell.spawn(&["resume", NAME, "--yes", "--json"]);
    checks_passed(&finish(child, rx, Vec::new()));
}

#[test]
fn the_emulator_killed_mid_run_is_named_as_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let (child, rx, seen) = new_run_held_at_the_network_stack(&shell);
    let status = shell.ok(&["sandbox", "status"]);
    let pid: i32 = status
        .split("(pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {status:?}"));
    // SAFETY: kill(2) on the sandbox's emulator, a process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let events = finish_with(child, rx, seen, 2);
    let failed = events
        .iter()
        .find(|e| e["type"] == "step_failed")
        .expect("a failed step");
    let next = failed["next"].as_str().unwrap();
    for part in ["the sandbox's emulator", "xwizard sandbox status"] {
        assert!(next.contains(part), "{part:?} not in {next:?}");
    }
    assert!(!next.contains("aws sso login"), "{next}");
}

#[test]
fn a_cleanup_outliving_its_credentials_stops_cleanly_and_destroy_finishes_after_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let (child, rx) = shell.spawn(&["new", "--yes", "--json", "--preset", PRESET, "--name", NAME]);
    checks_passed(&finish(child, rx, Vec::new()));

    // The consumer's session runs out while its API stack is being deleted.
    let api_stack = format!("xw-{NAME}-consumer-api");
    shell.ok(&["sandbox", "fault", "hold", &api_stack]);
    let (child, rx) = shell.spawn(&["destroy", NAME, "--yes", "--json"]);
    let seen = wait_event(
        &rx,
        "the API stack being deleted",
        stack_reaches(&api_stack, "DELETE_IN_PROGRESS"),
    );
    shell.ok(&["sandbox", "fault", "expire", "consumer"]);
    shell.ok(&["sandbox", "fault", "release", &api_stack]);
    let events = finish_with(child, rx, seen, 2);
    let failed = events
        .iter()
        .find(|e| e["type"] == "step_failed")
        .expect("the cleanup stops with a failed step");
    let next = failed["next"].as_str().unwrap();
    for part in [
        "profile sandbox-consumer have expired",
        &format!("`xwizard destroy {NAME}` again"),
    ] {
        assert!(next.contains(part), "{part:?} not in {next:?}");
    }
    assert_ne!(status_of(dir.path(), "consumer-vpc"), StepStatus::Destroyed);

    // Signed in again, destroy carries on and leaves nothing.
    shell.ok(&["sandbox", "fault", "renew", "consumer"]);
    let (child, rx) = shell.spawn(&["destroy", NAME, "--yes", "--json"]);
    said_nothing_is_left(&finish(child, rx, Vec::new()));
}
