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

use common::StopSandbox;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use xwizard::state::{StepStatus, Store};

const NAME: &str = "interrupted";
const DEADLINE: Duration = Duration::from_secs(120);

struct Shell {
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Shell {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
        cmd.arg("--state-dir")
            .arg(&self.dir)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a command that must succeed.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Where the last spawned run's messages for people (stderr) go.
    fn stderr_log(&self) -> PathBuf {
        self.dir.join("last-run.stderr")
    }

    /// Starts a JSON run whose events arrive on the returned channel as they are printed.
    fn spawn(&self, args: &[&str]) -> (Child, mpsc::Receiver<serde_json::Value>) {
        let stderr = std::fs::File::create(self.stderr_log()).unwrap();
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let event = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        (child, rx)
    }
}

/// The events up to and including the first one `wanted` accepts, or a panic naming `what`
/// at the deadline.
fn wait_event(
    rx: &mpsc::Receiver<serde_json::Value>,
    what: &str,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let end = Instant::now() + DEADLINE;
    let mut seen = Vec::new();
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) => {
                let found = wanted(&event);
                seen.push(event);
                if found {
                    return seen;
                }
            }
            Err(e) => panic!("never saw {what}: {e}"),
        }
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing is saved on the way out
    child.wait().unwrap();
}

/// `seen` and every later event until the process ends, which must exit successfully.
fn finish(
    child: Child,
    rx: mpsc::Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
) -> Vec<serde_json::Value> {
    finish_with(child, rx, seen, 0)
}

/// `seen` and every later event until the process ends with exit status `code`.
fn finish_with(
    mut child: Child,
    rx: mpsc::Receiver<serde_json::Value>,
    mut events: Vec<serde_json::Value>,
    code: i32,
) -> Vec<serde_json::Value> {
    let status = child.wait().unwrap();
    events.extend(rx.iter());
    assert_eq!(status.code(), Some(code), "{events:#?}");
    events
}

/// A shell pointed at a sandbox of its own, and the guard that stops it.
fn shell_on_a_sandbox(dir: &Path) -> (Shell, StopSandbox) {
    let mut shell = Shell {
        dir: dir.to_path_buf(),
        env: Vec::new(),
    };
    shell.ok(&["sandbox", "up"]);
    let down = StopSandbox(dir.to_path_buf());
    shell.env = shell
        .ok(&["sandbox", "env"])
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect();
    (shell, down)
}

/// Accepts the stack event of `stack` reaching `status`.
fn stack_reaches(stack: &str, status: &str) -> impl Fn(&serde_json::Value) -> bool {
    let (stack, status) = (stack.to_string(), status.to_string());
    move |e| {
        e["type"] == "stack_event" && e["stack"] == stack.as_str() && e["status"] == status.as_str()
    }
}

const PRESET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/sandbox.toml");

fn checks_passed(events: &[serde_json::Value]) {
    let checks: Vec<_> = events.iter().filter(|e| e["type"] == "check").collect();
    assert_eq!(checks.len(), 4, "{checks:#?}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
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
    assert!(
        events.iter().any(|e| e["type"] == "info"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("of this deployment is left in either account"))),
        "{events:#?}"
    );
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
    shell.ok(&["sandbox", "fault", "hold", &vpc_stack]);
    let (child, rx) = shell.spawn(&["new", "--yes", "--json", "--preset", PRESET, "--name", NAME]);
    let seen = wait_event(
        &rx,
        "the network stack in progress",
        stack_reaches(&vpc_stack, "CREATE_IN_PROGRESS"),
    );
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
