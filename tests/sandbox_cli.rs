//! `xwizard sandbox up | env | status | down` as a user runs them: the real binary.

mod common;

use common::StopSandbox;
use std::path::Path;
use std::process::{Command, Output};

fn xwizard(state_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xwizard"))
        .arg("--state-dir")
        .arg(state_dir)
        .args(args)
        .output()
        .expect("run xwizard")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn up_env_down_manage_exactly_one_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let _down = StopSandbox(dir.path().to_path_buf());

    let up = xwizard(dir.path(), &["sandbox", "up"]);
    assert!(up.status.success(), "up failed: {}", text(&up.stderr));
    let exports = text(&up.stdout);
    for name in [
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "XWIZARD_SANDBOX_ENDPOINT_URL",
    ] {
        assert!(
            exports.contains(&format!("export {name}=")),
            "no {name} in:\n{exports}"
        );
    }
    // The profiles live beside the sandbox, not in ~/.aws.
    let config = std::fs::read_to_string(dir.path().join("sandbox/aws/config")).unwrap();
    assert!(
        config.contains("[profile sandbox-producer]")
            && config.contains("[profile sandbox-consumer]")
    );
    assert!(config.contains("endpoint_url = http://127.0.0.1:"));

    let ready: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("sandbox/ready.json")).unwrap(),
    )
    .unwrap();
    let pid = ready["pid"].as_u64().unwrap() as u32;
    assert!(pid_alive(pid));

    // A second `up` reuses the running one instead of starting another.
    let again = xwizard(dir.path(), &["sandbox", "up"]);
    assert!(again.status.success());
    assert!(
        text(&again.stderr).contains("already running"),
        "{}",
        text(&again.stderr)
    );

    // Flags a running sandbox cannot honour are refused with why, not ignored.
    for flags in [
        &["--port", "1"][..],
        &["--pace", "realistic"],
        &["--data-plane-port", "1"],
    ] {
        let refused = xwizard(dir.path(), &[&["sandbox", "up"][..], flags].concat());
        let err = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{flags:?}: {err}");
        assert!(
            err.contains("already running")
                && err.contains(flags[0])
                && err.contains("sandbox down"),
            "{flags:?}: {err}"
        );
    }
    // Releasing a stack that is not held is a mistake worth saying.
    let release = xwizard(
        dir.path(),
        &["sandbox", "fault", "release", "no-such-stack"],
    );
    let err = text(&release.stderr);
    assert_eq!(release.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no-such-stack") && err.contains("not held"),
        "{err}"
    );
    assert!(!err.contains("done"), "{err}");

    let env = xwizard(dir.path(), &["sandbox", "env"]);
    assert_eq!(text(&env.stdout), exports, "env must print what up printed");

    let down = xwizard(dir.path(), &["sandbox", "down"]);
    assert!(down.status.success());
    assert!(text(&down.stderr).contains(&format!("pid {pid}")));
    assert!(!pid_alive(pid), "the emulator {pid} still runs after down");
    assert!(!dir.path().join("sandbox/aws/credentials").exists());

    let env_after = xwizard(dir.path(), &["sandbox", "env"]);
    assert!(!env_after.status.success());
    assert!(
        text(&env_after.stderr).contains("xwizard sandbox up"),
        "{}",
        text(&env_after.stderr)
    );
}

#[test]
fn a_taken_port_is_reported_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let _down = StopSandbox(dir.path().to_path_buf());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();

    let up = xwizard(dir.path(), &["sandbox", "up", "--port", &port]);
    assert!(!up.status.success(), "up must fail on a taken port");
    let err = text(&up.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("another port"), "{err}");
}

/// The README's first command, as a script or CI runs it: no terminal anywhere. It does the
/// whole job, as it does on a terminal: deploy, test, clean up, stop the sandbox.
#[test]
fn the_first_command_without_a_terminal_runs_through_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let _down = StopSandbox(dir.path().to_path_buf());
    let out = Command::new(env!("CARGO_BIN_EXE_xwizard"))
        .arg("--state-dir")
        .arg(dir.path())
        .arg("sandbox")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (said, shown) = (text(&out.stderr), text(&out.stdout));
    assert_eq!(out.status.code(), Some(0), "{said}\n{shown}");
    assert!(said.contains("No terminal to ask on"), "{said}");
    assert!(
        shown.contains("PASS consumer API with the API key"),
        "{shown}"
    );
    assert!(
        shown.contains("of this deployment is left in either account"),
        "{shown}"
    );
    assert!(said.contains("Sandbox stopped"), "{said}");
    assert!(!dir.path().join("sandbox/ready.json").exists());
}

/// An interpreter given by the environment is checked only when the emulator does not start
/// with it (a check first would cost every start a Python start): the error then says why.
#[test]
fn an_interpreter_without_moto_is_named_as_the_cause() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let python = dir.path().join("python");
    std::fs::write(
        &python,
        "#!/bin/sh\necho 'No module named moto' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xwizard"))
        .arg("--state-dir")
        .arg(dir.path())
        .args(["sandbox", "up"])
        .env("XWIZARD_SANDBOX_PYTHON", &python)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cannot run the sandbox: moto is not importable there"),
        "{said}"
    );
}
