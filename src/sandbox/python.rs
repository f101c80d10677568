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
        // Checked only when the emulator does not start (`explain_start_failure`): importing
        // moto first would add a Python start, 0.3 s, to every sandbox start.
        return Ok(PathBuf::from(python));
    }
    let venv = cache_dir.join(format!("sandbox-venv-{}", assets::requirements_id()));
    let python = venv.join("bin").join("python");
    if venv.join(".complete").exists() && python.exists() {
        return Ok(python);
    }
    let system = find_system_python()?;
    let started = std::time::Instant::now();
    // Measured: 68 s for the 60 packages on a busy 2-core machine; 129 s was seen on a
    // busier one.
    progress(&format!(
        "Preparing the sandbox's Python environment in {} (first run only; 1 to 3 minutes, \
         depending on the machine and the network)",
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
    let total = assets::REQUIREMENTS
        .lines()
        .filter(|l| l.contains("==") && !l.trim_start().starts_with('#'))
        .count();
    progress(&format!(
        "Installing the pinned emulator (moto 5.2.5) and its {total} packages, hash-checked"
    ));
    install(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--progress-bar",
                "off",
                "--disable-pip-version-check",
            ])
            .args(["--require-hashes", "-r"])
            .arg(&requirements),
        total,
        progress,
    )?;
    progress(&format!(
        "Python environment ready in {} s",
        started.elapsed().as_secs()
    ));
    std::fs::write(venv.join(".complete"), assets::requirements_id())?;
    Ok(python)
}

/// Runs pip, saying each package it collects ("[12/48] moto"), so a long first start shows
/// where it is; its errors end the sandbox's start with the tail of pip's output.
fn install(cmd: &mut Command, total: usize, progress: &mut dyn FnMut(&str)) -> Result<()> {
    use std::io::BufRead;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    // stderr is read beside stdout, so a full pipe never stalls pip.
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
            text
        })
    });
    let mut collected = 0;
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(what) = line.strip_prefix("Collecting ") {
                collected += 1;
                let name = what.split(['=', ' ', '<', '>', '[']).next().unwrap_or(what);
                progress(&format!("  [{collected}/{total}] {name}"));
            }
        }
    }
    let status = child.wait()?;
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "installing the sandbox's requirements failed; check the network access to PyPI \
             and retry\n{}",
            tail.join("\n")
        );
    }
    Ok(())
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

/// Why the emulator did not start, when the interpreter given by the environment is the
/// cause: it cannot import moto. `None` when it can (the start failed for another reason).
pub fn explain_start_failure(python: &Path) -> Option<anyhow::Error> {
    std::env::var_os(PYTHON_ENV)?;
    check_moto(python)
        .with_context(|| format!("{PYTHON_ENV}={} cannot run the sandbox", python.display()))
        .err()
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
    let found = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let pinned = assets::REQUIREMENTS
        .lines()
        .find_map(|l| {
            l.strip_prefix("moto==")
                .or_else(|| l.strip_prefix("moto[server]=="))
        })
        .map(|v| {
            v.split_whitespace()
                .next()
                .unwrap_or(v)
                .trim_end_matches('\\')
                .trim()
        });
    if let Some(pinned) = pinned
        && found != pinned
    {
        bail!(
            "it has moto {found}, the sandbox needs moto {pinned}; install \
             assets/sandbox/requirements.txt into it or unset {PYTHON_ENV}"
        );
    }
    Ok(())
}
