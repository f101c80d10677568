//! The Python the emulator runs on: a virtualenv under the cache dir with the pinned,
//! hash-checked requirements, made on first use.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::assets;

/// Set to a Python that already has the pinned emulator installed (e.g. CI's venv) to skip
/// making one.
pub const PYTHON_ENV: &str = "XWIZARD_SANDBOX_PYTHON";

const MIN_VERSION: (u32, u32) = (3, 10);

/// Returns the interpreter to run the emulator with, making the virtualenv if needed.
/// `progress` receives one line per slow step so the user knows why they wait.
pub fn ensure(cache_dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    if let Some(python) = std::env::var_os(PYTHON_ENV) {
        let python = PathBuf::from(python);
        check_moto(&python)
            .with_context(|| format!("{PYTHON_ENV}={} cannot run the sandbox", python.display()))?;
        return Ok(python);
    }
    let venv = cache_dir.join(format!("sandbox-venv-{}", assets::requirements_id()));
    let python = venv.join("bin").join("python");
    if venv.join(".complete").exists() && python.exists() {
        return Ok(python);
    }
    let system = find_system_python()?;
    progress(&format!(
        "Preparing the sandbox's Python environment in {} (first run only; about a minute)",
        venv.display()
    ));
    if venv.exists() {
        // A half-made venv from an interrupted run: start over rather than trust it.
        std::fs::remove_dir_all(&venv)
            .with_context(|| format!("cannot remove the incomplete {}", venv.display()))?;
    }
    std::fs::create_dir_all(cache_dir)?;
    run(
        Command::new(&system).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv failed; on Debian or Ubuntu install the python3-venv package",
    )?;
    let requirements = cache_dir.join(format!("requirements-{}.txt", assets::requirements_id()));
    std::fs::write(&requirements, assets::REQUIREMENTS)?;
    progress("Installing the pinned emulator (moto 5.2.5) with hash checking");
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--require-hashes", "-r"])
            .arg(&requirements),
        "installing the sandbox's requirements failed; check the network access to PyPI and retry",
    )?;
    std::fs::write(venv.join(".complete"), assets::requirements_id())?;
    Ok(python)
}

fn run(cmd: &mut Command, what_to_do: &str) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{what_to_do}\n{}", tail.join("\n"));
    }
    Ok(())
}

fn version_of(python: &Path) -> Option<(u32, u32)> {
    let out = Command::new(python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn find_system_python() -> Result<PathBuf> {
    let mut seen = Vec::new();
    for name in ["python3", "python"] {
        let Some(path) = which(name) else { continue };
        match version_of(&path) {
            Some(v) if v >= MIN_VERSION => return Ok(path),
            Some((major, minor)) => seen.push(format!("{} is {major}.{minor}", path.display())),
            None => {}
        }
    }
    let found = if seen.is_empty() {
        "no python3 on PATH".to_string()
    } else {
        seen.join(", ")
    };
    bail!(
        "the sandbox needs Python {}.{} or newer ({found}); install python3 (with venv) and retry",
        MIN_VERSION.0,
        MIN_VERSION.1
    )
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn check_moto(python: &Path) -> Result<()> {
    let out = Command::new(python)
        .args(["-c", "import moto, werkzeug; print(moto.__version__)"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "moto is not importable there; install assets/sandbox/requirements.txt into it \
             or unset {PYTHON_ENV}"
        );
    }
    Ok(())
}
