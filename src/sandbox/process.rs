//! Starting and stopping the emulator process, and reading what it says when ready.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the emulator writes to its ready file once both servers listen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadyInfo {
    pub pid: u32,
    pub endpoint_url: String,
    pub pace: String,
    /// Keyed by role: "producer", "consumer".
    pub accounts: BTreeMap<String, AccountKeys>,
    #[serde(default)]
    pub data_plane: DataPlane,
    /// The public hosted zone of the sandbox's own domain (`xwizard.test`), in the producer
    /// account; absent from emulators that predate it.
    #[serde(default)]
    pub hosted_zone: Option<HostedZone>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostedZone {
    pub name: String,
    /// Without the `/hostedzone/` prefix.
    pub id: String,
    pub account: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountKeys {
    pub account_id: String,
    pub aws_access_key_id: String,
    pub aws_secret_access_key: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataPlane {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub ca_file: String,
}

pub struct Launch<'a> {
    pub python: &'a Path,
    pub emulator_dir: &'a Path,
    pub run_dir: &'a Path,
    pub pace: &'a str,
    pub port: u16,
    pub data_plane_port: u16,
    /// Tie the emulator's life to ours (test harnesses); otherwise it is detached.
    pub exit_with_parent: bool,
}

pub fn ready_file(run_dir: &Path) -> PathBuf {
    run_dir.join("ready.json")
}

pub fn log_file(run_dir: &Path) -> PathBuf {
    run_dir.join("emulator.log")
}

/// Starts the emulator and waits until it has written its ready file.
pub fn launch(l: &Launch<'_>, deadline: Duration) -> Result<ReadyInfo> {
    use std::os::unix::process::CommandExt;

    std::fs::create_dir_all(l.run_dir)
        .with_context(|| format!("cannot create {}", l.run_dir.display()))?;
    let ready = ready_file(l.run_dir);
    let _ = std::fs::remove_file(&ready);
    let log = std::fs::File::create(log_file(l.run_dir))?;
    let mut cmd = Command::new(l.python);
    cmd.arg(l.emulator_dir.join("emulator.py"))
        .arg("--ready-file")
        .arg(&ready)
        .arg("--data-dir")
        .arg(l.run_dir)
        .args(["--pace", l.pace])
        .args(["--port", &l.port.to_string()])
        .args(["--data-plane-port", &l.data_plane_port.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if l.exit_with_parent {
        cmd.arg("--exit-with-parent");
    } else {
        // Its own process group: a Ctrl-C meant for the terminal's foreground job leaves it be.
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", l.python.display()))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(log_file(l.run_dir)).unwrap_or_default();
            let reason = last_lines(&log, 6);
            bail!("the sandbox emulator stopped at start ({status}):\n{reason}");
        }
        if let Ok(text) = std::fs::read_to_string(&ready) {
            let info: ReadyInfo = serde_json::from_str(&text)
                .with_context(|| format!("unreadable {}", ready.display()))?;
            return Ok(info);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            bail!(
                "the sandbox emulator did not become ready within {}s; see {}",
                deadline.as_secs(),
                log_file(l.run_dir).display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Reads the ready file of a sandbox that may be running.
pub fn read_ready(run_dir: &Path) -> Option<ReadyInfo> {
    let text = std::fs::read_to_string(ready_file(run_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// True when `pid` is alive and is our emulator (not a recycled pid).
pub fn is_our_emulator(pid: u32, emulator_marker: &str) -> bool {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains(emulator_marker),
        // No /proc (macOS): fall back to "the pid exists".
        Err(_) => unsafe { libc::kill(pid as i32, 0) == 0 },
    }
}

/// Stops the emulator with `pid`: SIGTERM, then SIGKILL if it has not gone by `grace`.
pub fn stop(pid: u32, grace: Duration) -> Result<()> {
    let pid_t = pid as libc::pid_t;
    // SAFETY: kill(2) has no memory effects; errors are reported through its return value.
    if unsafe { libc::kill(pid_t, libc::SIGTERM) } != 0 {
        return Ok(()); // already gone
    }
    let started = Instant::now();
    while started.elapsed() < grace {
        if !alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above.
    unsafe { libc::kill(pid_t, libc::SIGKILL) };
    Ok(())
}

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped by its parent) counts as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        // SAFETY: signal 0 only checks for existence.
        Err(_) => unsafe { libc::kill(pid as libc::pid_t, 0) == 0 },
    }
}
