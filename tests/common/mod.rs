//! Test harness: one sandbox per test binary, started the way `xwizard sandbox up` starts it,
//! and per-account SDK sessions loaded from the profiles it writes.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod deploy;
pub mod openssl;
pub mod schema;
pub mod shell;

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use xwizard::aws::{ProfileSource, Session};
use xwizard::sandbox::{self, Control, Running};

pub struct TestSandbox {
    pub running: Running,
    _dir: tempfile::TempDir,
}

static SANDBOX: OnceLock<TestSandbox> = OnceLock::new();

/// The test binary's sandbox, started on first use on free loopback ports. It stops when the
/// test process ends (the emulator watches its parent).
pub fn sandbox() -> &'static TestSandbox {
    SANDBOX.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("xwizard-test-sandbox-")
            .tempdir()
            .expect("temp dir");
        let mut opts =
            sandbox::Options::new(dir.path().join("sandbox"), xwizard::paths::cache_dir());
        opts.exit_with_parent = true;
        let running = sandbox::up(&opts, &mut |line| eprintln!("{line}"))
            .unwrap_or_else(|e| panic!("the test sandbox did not start: {e:#}"));
        TestSandbox { running, _dir: dir }
    })
}

impl TestSandbox {
    pub fn profiles(&self) -> ProfileSource {
        ProfileSource::files(
            self.running.profiles.config.clone(),
            self.running.profiles.credentials.clone(),
        )
    }

    /// A session for "producer" or "consumer", loaded from the sandbox's profiles.
    pub async fn session(&self, role: &str) -> Session {
        Session::load(&format!("sandbox-{role}"), None, &self.profiles()).await
    }

    pub fn control(&self) -> Control {
        self.running.control()
    }
}

/// A name no other test in this run uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `probe` until it yields `Some`, or panics naming `what` once `timeout` has passed.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `probe` until it is true, or panics naming `what` once `timeout` has passed.
pub fn wait_for_sync(what: &str, timeout: Duration, mut probe: impl FnMut() -> bool) {
    let started = Instant::now();
    while !probe() {
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the sandbox that `xwizard --state-dir DIR sandbox up` started, however the test
/// ends: a failed test must not leave it running.
pub struct StopSandbox(pub std::path::PathBuf);

impl Drop for StopSandbox {
    fn drop(&mut self) {
        let _ = std::process::Command::new(env!("CARGO_BIN_EXE_xwizard"))
            .arg("--state-dir")
            .arg(&self.0)
            .args(["sandbox", "down"])
            .output();
    }
}
