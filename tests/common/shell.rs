//! Driving the real binary from a shell of its own, as a person in a second terminal would:
//! a sandbox started with `xwizard sandbox up`, JSON runs whose events arrive as they are
//! printed, kills, and waits with a deadline.

use super::StopSandbox;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous for a loaded one-core machine: a correct run never waits for it.
pub const DEADLINE: Duration = Duration::from_secs(600);

pub struct Shell {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Shell {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
        cmd.arg("--state-dir")
            .arg(&self.dir)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Where the last spawned run's messages for people (stderr) go.
    pub fn stderr_log(&self) -> PathBuf {
        self.dir.join("last-run.stderr")
    }

    /// Starts a JSON run whose events arrive on the returned channel as they are printed.
    pub fn spawn(&self, args: &[&str]) -> (Child, mpsc::Receiver<serde_json::Value>) {
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
pub fn wait_event(
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

pub fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing is saved on the way out
    child.wait().unwrap();
}

/// `seen` and every later event until the process ends, which must exit successfully.
pub fn finish(
    child: Child,
    rx: mpsc::Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
) -> Vec<serde_json::Value> {
    finish_with(child, rx, seen, 0)
}

/// `seen` and every later event until the process ends with exit status `code`.
pub fn finish_with(
    mut child: Child,
    rx: mpsc::Receiver<serde_json::Value>,
    mut events: Vec<serde_json::Value>,
    code: i32,
) -> Vec<serde_json::Value> {
    let status = child.wait().unwrap();
    events.extend(rx.iter());
    events.iter().for_each(super::schema::assert_valid_event);
    assert_eq!(status.code(), Some(code), "{events:#?}");
    events
}

/// A shell pointed at a sandbox of its own, and the guard that stops it.
pub fn shell_on_a_sandbox(dir: &Path) -> (Shell, StopSandbox) {
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
pub fn stack_reaches(stack: &str, status: &str) -> impl Fn(&serde_json::Value) -> bool + use<> {
    let (stack, status) = (stack.to_string(), status.to_string());
    move |e| {
        e["type"] == "stack_event" && e["stack"] == stack.as_str() && e["status"] == status.as_str()
    }
}

pub const PRESET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/sandbox.toml");

pub fn checks_passed(events: &[serde_json::Value]) {
    let checks: Vec<_> = events.iter().filter(|e| e["type"] == "check").collect();
    assert_eq!(checks.len(), 6, "{checks:#?}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
}

/// A cleanup's events said that nothing of the deployment is left in either account.
pub fn said_nothing_is_left(events: &[serde_json::Value]) {
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "cleanup_result" && e["clean"] == true),
        "{events:#?}"
    );
}
