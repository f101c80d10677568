//! The local two-account AWS sandbox: the moto emulator with xwizard's extension, a local
//! HTTPS data plane, and a private AWS config naming one profile per account.
//!
//! `up` starts it (detached), `down` stops exactly what `up` started (by pid), `env` prints
//! the `export` lines that point the AWS CLI, boto3 or a second terminal at it.

pub mod assets;
pub mod control;
pub mod process;
pub mod profiles;
pub mod python;

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use control::{Control, FaultOn};
pub use process::ReadyInfo;
pub use profiles::ProfileFiles;

pub const DEFAULT_REGION: &str = "us-east-1";
pub const PRODUCER_ACCOUNT: &str = "111111111111";
pub const CONSUMER_ACCOUNT: &str = "222222222222";

/// How fast stacks progress: `fast` for tests and quick tries, `realistic` for workshops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pace {
    Fast,
    Realistic,
}

impl Pace {
    pub fn as_str(self) -> &'static str {
        match self {
            Pace::Fast => "fast",
            Pace::Realistic => "realistic",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Where the running sandbox keeps its files (ready file, log, CA, AWS profiles).
    pub run_dir: PathBuf,
    /// Where the virtualenv and emulator files are kept between runs.
    pub cache_dir: PathBuf,
    pub pace: Pace,
    pub region: String,
    /// 0 picks a free loopback port.
    pub port: u16,
    pub data_plane_port: u16,
    pub exit_with_parent: bool,
}

impl Options {
    pub fn new(run_dir: PathBuf, cache_dir: PathBuf) -> Self {
        Self {
            run_dir,
            cache_dir,
            pace: Pace::Fast,
            region: DEFAULT_REGION.to_string(),
            port: 0,
            data_plane_port: 0,
            exit_with_parent: false,
        }
    }
}

/// A sandbox that is up: what it listens on and the profiles that reach it.
#[derive(Debug, Clone)]
pub struct Running {
    pub info: ReadyInfo,
    pub profiles: ProfileFiles,
    pub run_dir: PathBuf,
    pub region: String,
    /// False when `up` found a sandbox already running and reused it.
    pub started_now: bool,
}

impl Running {
    pub fn control(&self) -> Control {
        Control::new(&self.info.endpoint_url)
    }

    /// Shell `export` lines pointing AWS tools at this sandbox.
    pub fn env_lines(&self) -> String {
        let mut out = String::new();
        let mut export = |name: &str, value: &str| {
            out.push_str(&format!("export {name}={}\n", shell_quote(value)));
        };
        export("AWS_CONFIG_FILE", &self.profiles.config.to_string_lossy());
        export(
            "AWS_SHARED_CREDENTIALS_FILE",
            &self.profiles.credentials.to_string_lossy(),
        );
        export("AWS_REGION", &self.region);
        export("XWIZARD_SANDBOX_ENDPOINT_URL", &self.info.endpoint_url);
        if !self.info.data_plane.url.is_empty() {
            export("XWIZARD_SANDBOX_DATA_PLANE", &self.info.data_plane.url);
            export("XWIZARD_SANDBOX_CA_FILE", &self.info.data_plane.ca_file);
        }
        for (role, keys) in &self.info.accounts {
            out.push_str(&format!(
                "# {role}: --profile {} (account {})\n",
                profiles::profile_for(role),
                keys.account_id
            ));
        }
        for (role, keys) in &self.info.accounts {
            out.push_str(&format!(
                "# {role} through a role that needs an MFA code (any 6 digits): --profile {}-mfa \
                 (account {})\n",
                profiles::profile_for(role),
                keys.account_id
            ));
        }
        out
    }
}

fn shell_quote(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c))
    {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The marker that identifies our emulator in a process's command line.
fn emulator_marker(run_dir: &Path) -> String {
    process::ready_file(run_dir).to_string_lossy().into_owned()
}

/// The sandbox running from `run_dir`, if one is.
pub fn status(run_dir: &Path, region: &str) -> Option<Running> {
    let info = process::read_ready(run_dir)?;
    if !process::is_our_emulator(info.pid, &emulator_marker(run_dir)) {
        return None;
    }
    Some(Running {
        info,
        profiles: ProfileFiles::in_dir(run_dir),
        run_dir: run_dir.to_path_buf(),
        region: region.to_string(),
        started_now: false,
    })
}

/// Starts the sandbox, or returns the one already running from the same directory.
pub fn up(opts: &Options, progress: &mut dyn FnMut(&str)) -> Result<Running> {
    if let Some(running) = status(&opts.run_dir, &opts.region) {
        return Ok(running);
    }
    let python = python::ensure(&opts.cache_dir, progress)?;
    let emulator_dir = assets::materialize(&opts.cache_dir)?;
    let launch = process::Launch {
        python: &python,
        emulator_dir: &emulator_dir,
        run_dir: &opts.run_dir,
        pace: opts.pace.as_str(),
        port: opts.port,
        data_plane_port: opts.data_plane_port,
        exit_with_parent: opts.exit_with_parent,
    };
    let info = match process::launch(&launch, Duration::from_secs(90)) {
        Ok(info) => info,
        Err(e) => return Err(python::explain_start_failure(&python).unwrap_or(e)),
    };
    let profiles = profiles::write(&opts.run_dir, &info, &opts.region)?;
    Ok(Running {
        info,
        profiles,
        run_dir: opts.run_dir.clone(),
        region: opts.region.clone(),
        started_now: true,
    })
}

/// What `down` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Down {
    Stopped { pid: u32 },
    NotRunning,
}

/// Stops the sandbox `up` started from `run_dir` (and only it: the pid must still be our
/// emulator), then removes its ready file and profiles.
pub fn down(run_dir: &Path) -> Result<Down> {
    let Some(info) = process::read_ready(run_dir) else {
        return Ok(Down::NotRunning);
    };
    let outcome = if process::is_our_emulator(info.pid, &emulator_marker(run_dir)) {
        process::stop(info.pid, Duration::from_secs(10))?;
        Down::Stopped { pid: info.pid }
    } else {
        Down::NotRunning
    };
    let files = ProfileFiles::in_dir(run_dir);
    for path in [
        process::ready_file(run_dir),
        files.config,
        files.credentials,
    ] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("cannot remove {}: {e}", path.display()),
        }
    }
    Ok(outcome)
}
