//! The full-screen interface of the real binary in an 80×24 pseudo-terminal, driven key by key
//! as a person would: Pattern 1 on the sandbox from the pattern screen through profiles,
//! parameters, three change-set reviews, the live deployment, the test results and the
//! cleanup. The raw output goes through a terminal emulator (vt100) and every step waits for
//! what the screen shows, with a deadline.

mod common;

use common::StopSandbox;
use expectrl::Session;
use expectrl::session::OsSession;
use std::io::ErrorKind;
use std::num::NonZeroU16;
use std::process::Command;
use std::time::{Duration, Instant};

const ROWS: u16 = 24;
const COLS: u16 = 80;
/// A stack on the sandbox takes seconds, and a first start makes a virtualenv; a loaded
/// one-core machine takes many times that. A correct run never waits for the deadline.
const DEADLINE: Duration = Duration::from_secs(600);

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("a terminal has rows and columns")
}

struct Screen {
    pty: OsSession,
    term: vt100::Parser,
    /// Everything the binary wrote, for what the emulated screen forgets (mode switches).
    raw: Vec<u8>,
    /// Bytes read but not yet fed to the terminal: the rest of a frame still being written.
    partial: Vec<u8>,
    /// Every distinct screen the binary drew, frame by frame: a screen that passes quickly is
    /// here however late the test got to read it (a busy machine reads many frames at once).
    seen: Vec<String>,
}

/// The bytes that end each frame ratatui draws: it hides the cursor, or shows it at an input
/// field, after writing the frame's cells.
const FRAME_ENDS: [&[u8]; 2] = [b"\x1b[?25l", b"\x1b[?25h"];

/// The end of the first frame in `bytes`: the index just past its closing sequence.
fn frame_end(bytes: &[u8]) -> Option<usize> {
    FRAME_ENDS
        .iter()
        .filter_map(|end| {
            bytes
                .windows(end.len())
                .position(|w| w == *end)
                .map(|at| at + end.len())
        })
        .min()
}

impl Screen {
    fn spawn(cmd: Command) -> Self {
        let mut pty = Session::spawn(cmd).expect("spawn xwizard in a pty");
        pty.get_process_mut()
            .set_window_size(COLS, ROWS)
            .expect("set the pty size");
        Self {
            pty,
            term: vt100::Parser::new(nonzero(ROWS), nonzero(COLS), 0),
            raw: Vec::new(),
            partial: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Takes in whatever the binary has written so far; false once it has exited.
    fn pump(&mut self) -> bool {
        let mut buf = [0u8; 8192];
        loop {
            let alive = match self.pty.try_read(&mut buf) {
                Ok(0) => false,
                Ok(n) => {
                    self.raw.extend_from_slice(&buf[..n]);
                    self.partial.extend_from_slice(&buf[..n]);
                    self.take_frames();
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => true,
                // EIO: the pty's other end is closed, the binary is gone.
                Err(_) => false,
            };
            if !alive {
                // What is left after the last frame (the restored terminal's text).
                let rest = std::mem::take(&mut self.partial);
                self.term.process(&rest);
            }
            return alive;
        }
    }

    /// Feeds every complete frame to the terminal, one at a time, keeping each screen.
    fn take_frames(&mut self) {
        while let Some(end) = frame_end(&self.partial) {
            let frame: Vec<u8> = self.partial.drain(..end).collect();
            self.term.process(&frame);
            let text = self.text();
            if self.seen.last() != Some(&text) {
                self.seen.push(text);
            }
        }
    }

    fn text(&self) -> String {
        self.term.screen().contents()
    }

    /// Waits until the screen shows all of `wanted`; returns the screen then.
    fn wait_for(&mut self, wanted: &[&str]) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let alive = self.pump();
            let text = self.text();
            if wanted.iter().all(|w| text.contains(w)) {
                return text;
            }
            if !alive || Instant::now() > deadline {
                panic!(
                    "never saw {wanted:?} ({}); the screen:\n{text}",
                    if alive {
                        "deadline passed"
                    } else {
                        "xwizard exited"
                    }
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether a screen seen so far showed all of `wanted`.
    fn saw(&self, wanted: &[&str]) -> bool {
        self.seen
            .iter()
            .any(|text| wanted.iter().all(|w| text.contains(w)))
    }

    /// The terminal window is resized (the binary gets SIGWINCH).
    fn resize(&mut self, cols: u16, rows: u16) {
        self.pty
            .get_process_mut()
            .set_window_size(cols, rows)
            .expect("resize the pty");
        self.term.set_size(nonzero(rows), nonzero(cols));
    }

    /// Waits until the screen, right of column `col`, shows `wanted`.
    fn wait_right_of(&mut self, col: u16, wanted: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let alive = self.pump();
            let right: String = self.term.screen().rows(col, u16::MAX - col).collect();
            if right.contains(wanted) {
                return;
            }
            assert!(
                alive && Instant::now() < deadline,
                "never saw {wanted:?} right of column {col}; the screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn key(&mut self, keys: &str) {
        use std::io::Write;
        self.pty
            .write_all(keys.as_bytes())
            .expect("type into the pty");
        self.pty.flush().expect("flush the pty");
    }
}

/// `xwizard sandbox` on its own sandbox, through the pattern and profiles screens to the
/// parameters screen.
fn to_parameters(dir: &std::path::Path) -> Screen {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(dir).arg("sandbox");
    cmd.env("TERM", "xterm-256color").env_remove("NO_COLOR");
    if let Ok(python) = std::env::var("XWIZARD_SANDBOX_PYTHON") {
        cmd.env("XWIZARD_SANDBOX_PYTHON", python);
    }
    let mut s = Screen::spawn(cmd);
    pattern_and_profiles(&mut s);
    s
}

/// From the pattern screen through both profiles (the sandbox's) to the parameters screen.
fn pattern_and_profiles(s: &mut Screen) {
    s.wait_for(&["New deployment · pattern", "1. "]);
    s.key("\r");
    profiles(s);
}

/// From the profiles screen, both profiles the sandbox's, to the parameters screen.
fn profiles(s: &mut Screen) {
    // The sandbox's two profiles; Enter picks the likely one for each role in turn.
    s.wait_for(&["sandbox-producer", "sandbox-consumer", "▸ producer"]);
    s.key("\r");
    s.wait_for(&["✔ account 111111111111", "▸ consumer"]);
    s.key("\r");
    s.wait_for(&["✔ account 222222222222", "c continues"]);
    s.key("c");

    let params = s.wait_for(&["New deployment · parameters", "Deployment name"]);
    assert!(
        params.contains("producer profile sandbox-producer → account 111111111111"),
        "{params}"
    );
}

/// On the parameters screen: the deployment's name set to `name` (Tab to the field, clear it,
/// type).
fn name_it(s: &mut Screen, name: &str) {
    s.key("\t");
    s.key(&"\x7f".repeat(20));
    s.key(name);
    s.wait_for(&[&format!("Deployment name  {name}")]);
}

/// Reads the rest of the output until the binary exits; its exit code.
fn exit_code(s: &mut Screen) -> i32 {
    let deadline = Instant::now() + DEADLINE;
    while s.pump() {
        assert!(Instant::now() < deadline, "xwizard did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    match s.pty.get_process_mut().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    }
}

/// The output after the alternate screen was left for the last time. It must have been left,
/// and nothing drawn after.
fn after_the_screen(s: &Screen) -> String {
    const LEAVE: &str = "\x1b[?1049l";
    let raw = String::from_utf8_lossy(&s.raw).into_owned();
    let left = raw
        .rfind(LEAVE)
        .expect("the alternate screen was never left");
    assert!(
        raw.rfind("\x1b[?1049h")
            .is_some_and(|entered| entered < left),
        "entered the alternate screen after leaving it"
    );
    let after = raw[left + LEAVE.len()..].to_string();
    assert!(
        !after.contains("\x1b[?1049h") && !after.contains("\x1b[H"),
        "drawing after the terminal was restored: {after:?}"
    );
    after
}

#[test]
fn a_full_screen_sandbox_run_deploys_tests_and_cleans_up_pattern_1() {
    let dir = tempfile::tempdir().unwrap();
    let _stop = StopSandbox(dir.path().to_path_buf());
    let mut s = to_parameters(dir.path());
    s.key("\r");

    // Each stack is reviewed in its own account: the consumer's network, the producer's
    // API, the consumer's API.
    for (stack, who) in [
        ("-consumer-vpc", "consumer · 222222222222"),
        ("-producer", "producer · 111111111111"),
        ("-consumer-api", "consumer · 222222222222"),
    ] {
        let review = s.wait_for(&["xwizard · Review", stack, "y apply"]);
        assert!(review.contains(&format!("acting: {who}")), "{review}");
        assert!(review.contains(&format!("in {who}")), "{review}");
        s.key("y");
    }

    // The run ends on the test results, with the cleanup offered beneath them.
    let results = s.wait_for(&[
        "xwizard · Test results",
        "Clean up now?",
        "c: review the cleanup",
    ]);
    // The live deployment showed each stack's resources, in the account acting.
    for who in ["consumer · 222222222222", "producer · 111111111111"] {
        assert!(
            s.saw(&[
                "xwizard · Deployment",
                &format!("acting: {who}"),
                "CREATE_COMPLETE"
            ]),
            "no deployment screen with {who} acting"
        );
    }
    assert!(results.contains("checks passed"), "{results}");
    for check in [
        "PASS consumer API with the API key",
        "PASS consumer API without a key",
        "PASS consumer function",
    ] {
        assert!(results.contains(check), "{check} missing:\n{results}");
    }
    assert!(!results.contains("FAIL"), "{results}");
    assert!(results.contains("k: keep it"), "{results}");
    s.key("c");
    let cleanup = s.wait_for(&["Delete every stack of", "in this order?", "y delete all"]);
    assert!(cleanup.contains("producer · 111111111111"), "{cleanup}");
    assert!(cleanup.contains("consumer · 222222222222"), "{cleanup}");
    s.key("y");

    // A fresh sandbox had no API Gateway logging role: the one made is kept, and said so.
    let done = s.wait_for(&[
        "is gone: nothing of it is left but what is kept on purpose",
        "kept: role ",
    ]);
    for who in ["producer · 111111111111", "consumer · 222222222222"] {
        assert!(
            done.contains("apigw-cloudwatch") && done.contains(who),
            "{done}"
        );
    }
    assert!(done.contains("destroyed"), "{done}");
    assert!(!done.contains("still there"), "{done}");

    // Nothing runs now: q asks once, y leaves.
    s.key("q");
    s.wait_for(&["Quit xwizard?"]);
    s.key("y");
    assert_eq!(exit_code(&mut s), 0);
    // The terminal is given back before the sandbox is stopped.
    let after = after_the_screen(&s);
    assert!(after.contains("Sandbox stopped"), "{after:?}");
}

/// `xwizard` (or `xwizard resume`) in the pty, on the state directory `dir`.
fn xwizard(dir: &std::path::Path, args: &[&str]) -> Screen {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(dir).args(args);
    cmd.env("TERM", "xterm-256color").env_remove("NO_COLOR");
    if let Ok(python) = std::env::var("XWIZARD_SANDBOX_PYTHON") {
        cmd.env("XWIZARD_SANDBOX_PYTHON", python);
    }
    Screen::spawn(cmd)
}

/// Answers `y` to each change set reviewed, once per stack, until the connection request is
/// on screen; the stacks reviewed, in the order they were asked.
fn apply_each_until_the_connection(s: &mut Screen) -> Vec<String> {
    let deadline = Instant::now() + DEADLINE;
    let mut applied: Vec<String> = Vec::new();
    loop {
        let alive = s.pump();
        let text = s.text();
        if text.contains("xwizard · Connection request") {
            return applied;
        }
        let reviewed = text
            .lines()
            .find_map(|l| l.split("Apply to ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .map(|stack| stack.trim_end_matches('│').to_string());
        if let Some(stack) = reviewed
            && text.contains("y apply")
            && !applied.contains(&stack)
        {
            s.key("y");
            applied.push(stack);
        }
        assert!(
            alive && Instant::now() < deadline,
            "never saw the connection request; the screen:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Pattern 2 on the full screen, on its own sandbox: chosen on the pattern screen, its domain
/// given by the sandbox, three change sets applied; the connection left for later ends the
/// run waiting with the endpoint still `pendingAcceptance` in AWS; `xwizard resume` asks
/// again, `a` accepts, and the four mTLS checks pass.
#[test]
fn pattern_2_on_the_full_screen_waits_for_a_later_answer_and_resume_accepts() {
    let name = "tui-mtls";
    let dir = tempfile::tempdir().unwrap();
    let _stop = StopSandbox(dir.path().to_path_buf());
    let mut s = xwizard(dir.path(), &["sandbox"]);
    s.wait_for(&["New deployment · pattern", "▸ 1. "]);
    s.key("2");
    s.wait_for(&["▸ 2. Cross-account private API via mTLS and PrivateLink"]);
    s.key("\r");
    profiles(&mut s);
    let params = s.wait_for(&["Pattern 2:", "Domain name", "xwizard.test"]);
    assert!(params.contains("Subdomain"), "{params}");
    name_it(&mut s, name);
    // The subdomain follows the name; the certificate authority is the free local one.
    s.wait_for(&[&format!("     {name}"), "Which certificate authority"]);
    s.key("\r");

    let applied = apply_each_until_the_connection(&mut s);
    let mut sorted = applied.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["consumer", "producer-api", "producer-network"]
            .map(|suffix| format!("xw-{name}-{suffix}")),
        "{applied:?}"
    );
    let asked = s.wait_for(&["a accept", "r reject", "l Esc later"]);
    assert!(asked.contains("222222222222  ✔ the consumer"), "{asked}");
    assert!(asked.contains("Endpoint          vpce-"), "{asked}");
    assert!(asked.contains("Producer account  111111111111"), "{asked}");
    s.key("l");

    let waiting = s.wait_for(&[
        "Waits for your answer",
        &format!("{name} · waiting"),
        "waits for your answer",
    ]);
    assert!(waiting.contains("⏸P accept-connection"), "{waiting}");
    assert!(!waiting.contains("Step failed"), "{waiting}");

    // In AWS the connection still waits for the producer's answer.
    let store = xwizard::state::Store::new(dir.path());
    let record = store.load(name).unwrap();
    let step = |id: &str, key: &str| record.step(id).outputs[key].clone();
    let (service, endpoint) = (
        step("producer-api", "EndpointServiceId"),
        step("consumer", "ServiceEndpointId"),
    );
    let (config, credentials) = record.profile_files.clone().expect("a sandbox deployment");
    let states = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let source = xwizard::aws::ProfileSource::files(config, credentials);
        let producer = xwizard::aws::Session::load("sandbox-producer", None, &source).await;
        xwizard::aws::endpoint_services::EndpointServices::new(&producer)
            .connections(&service, &endpoint)
            .await
            .unwrap()
    });
    assert_eq!(
        states.iter().map(|c| c.state.as_str()).collect::<Vec<_>>(),
        ["pendingAcceptance"]
    );

    s.key("q");
    s.wait_for(&["Quit xwizard?"]);
    s.key("y");
    assert_eq!(exit_code(&mut s), 3, "waiting: exit 3");
    let after = after_the_screen(&s);
    assert!(
        after.contains(&format!("`xwizard resume {name}` asks again")),
        "{after:?}"
    );
    assert!(
        after.contains("keeps running for the unfinished deployment"),
        "{after:?}"
    );

    // Resumed on the full screen: asked again, accepted, tested.
    let mut s = xwizard(dir.path(), &["resume", name]);
    s.wait_for(&["xwizard · Connection request", "a accept"]);
    s.key("a");
    let results = s.wait_for(&["xwizard · Test results", "all 4 checks passed"]);
    for check in [
        "PASS with the client certificate and the API key",
        "PASS without a client certificate",
        "PASS with a certificate from another CA",
        "PASS without the API key",
    ] {
        assert!(results.contains(check), "{check} missing:\n{results}");
    }
    assert!(!results.contains("FAIL"), "{results}");
    assert!(results.contains(&format!("{name} · deployed")), "{results}");
    s.key("q");
    s.wait_for(&["Quit xwizard?"]);
    s.key("y");
    assert_eq!(exit_code(&mut s), 0);

    let destroyed = Command::new(env!("CARGO_BIN_EXE_xwizard"))
        .arg("--state-dir")
        .arg(dir.path())
        .args(["destroy", name, "--yes"])
        .output()
        .unwrap();
    assert!(destroyed.status.success(), "{destroyed:?}");
}

#[test]
fn quitting_at_a_review_keeps_the_deployment_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let _stop = StopSandbox(dir.path().to_path_buf());
    let mut s = to_parameters(dir.path());
    // A name of our own: Tab to the name field, clear it, type.
    name_it(&mut s, "tui-quit");
    s.key("\r");
    s.wait_for(&["xwizard · Review", "-consumer-vpc", "y apply"]);
    // A wider window: the screen is drawn again to its new width, boxes closing at its edge.
    s.resize(120, 40);
    s.wait_right_of(110, "┐");
    s.resize(COLS, ROWS);
    s.wait_for(&["xwizard · Review", "y apply"]);
    s.key("q");
    let confirm = s.wait_for(&["Quit xwizard?"]);
    assert!(confirm.contains("xwizard resume tui-quit"), "{confirm}");
    s.key("y");
    assert_eq!(exit_code(&mut s), 2, "kept and resumable, as a failed step");
    let after = after_the_screen(&s);
    assert!(
        after.contains("`xwizard resume tui-quit` carries it on"),
        "{after:?}"
    );
    // The deployment lives in the sandbox, so the sandbox stays up for the resume.
    assert!(
        after.contains("keeps running for the unfinished deployment"),
        "{after:?}"
    );

    // The record is saved, the unanswered step stopped, ready to resume.
    let status = Command::new(env!("CARGO_BIN_EXE_xwizard"))
        .arg("--state-dir")
        .arg(dir.path())
        .args(["status", "tui-quit"])
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("consumer-vpc"), "{status}");
    assert!(status.contains("no answer"), "{status}");
}

#[test]
fn sigterm_and_sighup_restore_the_terminal_and_keep_the_run() {
    for (signal, name) in [(libc::SIGTERM, "tui-term"), (libc::SIGHUP, "tui-hup")] {
        let dir = tempfile::tempdir().unwrap();
        let _stop = StopSandbox(dir.path().to_path_buf());
        let mut s = to_parameters(dir.path());
        name_it(&mut s, name);
        s.key("\r");
        s.wait_for(&["xwizard · Review", "-consumer-vpc", "y apply"]);
        let pid = s.pty.get_process().pid().as_raw();
        // SAFETY: kill(2) on our own child's pid; no memory is touched.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        assert_eq!(exit_code(&mut s), 130, "{name}: stopped by a signal");
        // The alternate screen was left, which ratatui does after leaving raw mode.
        let after = after_the_screen(&s);
        assert!(
            after.contains(&format!("`xwizard resume {name}` carries it on")),
            "{after:?}"
        );
        let record = xwizard::state::Store::new(dir.path()).load(name).unwrap();
        assert_ne!(
            record.step("consumer-vpc").status,
            xwizard::state::StepStatus::Pending,
            "the run was saved"
        );
    }
}

#[test]
fn ctrl_c_leaves_the_full_screen_as_an_interrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let _stop = StopSandbox(dir.path().to_path_buf());
    let mut s = to_parameters(dir.path());
    name_it(&mut s, "tui-ctrl-c");
    s.key("\r");
    s.wait_for(&["xwizard · Review", "-consumer-vpc", "y apply"]);
    // Ctrl-C asks, as q does; a second Ctrl-C leaves.
    s.key("\x03");
    s.wait_for(&["Quit xwizard?"]);
    s.key("\x03");
    assert_eq!(exit_code(&mut s), 130, "Ctrl-C ends as an interruption");
    let after = after_the_screen(&s);
    assert!(
        after.contains("`xwizard resume tui-ctrl-c` carries it on"),
        "{after:?}"
    );
}

/// The README's workshop flow on a shared sandbox: `xwizard sandbox up`, a shell pointed at
/// it, `xwizard` (the home screen), `n`, Enter through, `y` to each review; the checks pass
/// through the sandbox's data plane, and `xwizard test` from the same shell passes too.
#[test]
fn the_shared_sandbox_workshop_flow_passes_from_the_home_screen() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = common::shell::shell_on_a_sandbox(dir.path());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(dir.path());
    cmd.env("TERM", "xterm-256color").env_remove("NO_COLOR");
    cmd.envs(shell.env.iter().map(|(k, v)| (k, v)));
    let mut s = Screen::spawn(cmd);
    s.wait_for(&["No deployments yet."]);
    s.key("n");
    pattern_and_profiles(&mut s);
    name_it(&mut s, "workshop");
    s.key("\r");
    for stack in ["-consumer-vpc", "-producer", "-consumer-api"] {
        s.wait_for(&["xwizard · Review", stack, "y apply"]);
        s.key("y");
    }
    let results = s.wait_for(&["xwizard · Test results", "Clean up now?"]);
    assert!(!results.contains("FAIL"), "{results}");
    for check in [
        "PASS consumer API with the API key",
        "PASS consumer API without a key",
        "PASS consumer function",
    ] {
        assert!(results.contains(check), "{check} missing:\n{results}");
    }
    s.key("k");
    // Kept: the run ends and lets go of the deployment.
    let store = xwizard::state::Store::new(dir.path());
    common::wait_for_sync("the run to end", DEADLINE, || {
        s.pump();
        store.lock("workshop").is_ok()
    });
    s.key("q");
    s.wait_for(&["Quit xwizard?"]);
    s.key("y");
    assert_eq!(exit_code(&mut s), 0);

    // From the same shell, the test calls again.
    let retest = shell
        .command(&["test", "workshop", "--json"])
        .output()
        .unwrap();
    assert!(retest.status.success(), "{retest:?}");
    let checks = String::from_utf8_lossy(&retest.stdout)
        .lines()
        .filter(|l| l.contains("\"type\":\"check\""))
        .filter(|l| l.contains("\"passed\":true"))
        .count();
    assert_eq!(checks, 6, "{retest:?}");
    shell.ok(&["destroy", "workshop", "--yes"]);
}

#[test]
fn mfa_role_profiles_ask_for_their_codes_in_a_box_and_verify_as_the_roles() {
    const CODE: &str = "402917";
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = common::shell::shell_on_a_sandbox(dir.path());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(dir.path()).args([
        "new",
        "--producer-profile",
        "sandbox-producer-mfa",
        "--consumer-profile",
        "sandbox-consumer-mfa",
    ]);
    cmd.env("TERM", "xterm-256color").env_remove("NO_COLOR");
    cmd.envs(shell.env.iter().map(|(k, v)| (k, v)));
    cmd.env_remove("XWIZARD_MFA_CODE");
    let mut s = Screen::spawn(cmd);

    // Each sandbox account has its own device: one box each, one after the other.
    let first = s.wait_for(&["MFA code", "Code the device shows now"]);
    let (asked, other) = if first.contains("Profile sandbox-producer-mfa") {
        ("111111111111", "sandbox-consumer-mfa")
    } else {
        ("222222222222", "sandbox-producer-mfa")
    };
    assert!(
        first.contains(&format!("arn:aws:iam::{asked}:mfa/xwizard-sandbox")),
        "{first}"
    );
    s.key(CODE);
    s.wait_for(&["●●●●●●"]);
    s.key("\r");
    s.wait_for(&[&format!("Profile {other}")]);
    s.key(CODE);
    s.key("\r");

    s.wait_for(&["New deployment · pattern"]);
    s.key("\r");
    s.wait_for(&["✔ account 111111111111", "✔ account 222222222222"]);
    let raw = String::from_utf8_lossy(&s.raw).into_owned();
    assert!(!raw.contains(CODE), "the code was drawn");
    s.key("q");
    s.wait_for(&["Quit xwizard?"]);
    s.key("y");
    assert_eq!(exit_code(&mut s), 0);
}
