//! Profiles that assume a role with an MFA device (`mfa_serial`), on the sandbox's MFA-guarded
//! roles: the code comes from the front end in use, one code serves every profile on the same
//! device, a refused or missing code is said as such, and the code is never written anywhere.

mod common;

use common::shell::{Shell, shell_on_a_sandbox};
use expectrl::{Expect, Session};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Distinctive, so that finding it anywhere means it leaked.
const CODE: &str = "402917";
const PRODUCER_SERIAL: &str = "arn:aws:iam::111111111111:mfa/xwizard-sandbox";

fn run(shell: &Shell, args: &[&str], env: &[(&str, &str)]) -> Output {
    shell
        .command(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file under `dir` that holds `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

const NEW: &[&str] = &[
    "new",
    "--json",
    "--pattern",
    "vpc-endpoint",
    "--producer-profile",
    "sandbox-producer-mfa",
    "--consumer-profile",
    "sandbox-consumer-mfa",
    "--region",
    "us-east-1",
    "--name",
    "mfa-run",
];

#[test]
fn json_runs_take_the_code_from_the_flag_or_the_variable_and_say_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let mut said = String::new();

    // The sandbox names its MFA profiles.
    let env = shell.ok(&["sandbox", "env"]);
    assert!(
        env.contains("--profile sandbox-consumer-mfa (account 222222222222)"),
        "{env}"
    );

    // No code and no terminal: nothing is made, and the error says how to give one.
    let out = run(&shell, NEW, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in [
        "profile 'sandbox-producer-mfa'",
        PRODUCER_SERIAL,
        "--mfa-code",
        "XWIZARD_MFA_CODE",
        "mfa_code_command",
    ] {
        assert!(stderr.contains(part), "{part:?} not in {stderr}");
    }
    assert!(!stderr.contains("sso login"), "{stderr}");
    assert!(!shell.dir.join("deployments/mfa-run.toml").exists());
    said.push_str(&stdout);
    said.push_str(&stderr);

    // A code AWS refuses: named as a refused code, with what to do.
    shell.ok(&["sandbox", "fault", "mfa-reject", "1"]);
    let mut args = NEW.to_vec();
    args.extend(["--mfa-code", CODE]);
    let out = run(&shell, &args, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the MFA code for {PRODUCER_SERIAL} was refused: MultiFactorAuthentication failed \
             with invalid MFA one time pass code, run again with a fresh code"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("sso login"), "{stderr}");
    said.push_str(&stdout);
    said.push_str(&stderr);

    // With a code: both identities are the assumed MFA roles. Without --yes the JSON run stops
    // at the first change set, which is as far as the identities matter.
    let out = run(&shell, &args, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for (role, account) in [("producer", "111111111111"), ("consumer", "222222222222")] {
        let line = format!(
            "{role}: sandbox-{role}-mfa → account {account} \
             (arn:aws:sts::{account}:assumed-role/xwizard-sandbox-mfa/xwizard-"
        );
        assert!(stderr.contains(&line), "{line:?} not in {stderr}");
    }
    assert!(
        stdout.contains(r#""producer_account":"111111111111","consumer_account":"222222222222""#),
        "{stdout}"
    );
    said.push_str(&stdout);
    said.push_str(&stderr);

    // The saved deployment is opened again with the code from the variable.
    let out = run(
        &shell,
        &["destroy", "mfa-run", "--json", "--yes"],
        &[("XWIZARD_MFA_CODE", CODE)],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(r#""status":"destroyed""#),
        "{stdout}\n{stderr}"
    );
    said.push_str(&stdout);
    said.push_str(&stderr);

    // CI with a preset: its command prints the code when one is needed.
    let presets = tempfile::tempdir().unwrap();
    let preset = presets.path().join("mfa.toml");
    std::fs::write(
        &preset,
        format!(
            "pattern = \"vpc-endpoint\"\nregion = \"us-east-1\"\n\
             producer_profile = \"sandbox-producer-mfa\"\n\
             consumer_profile = \"sandbox-consumer-mfa\"\nname = \"mfa-preset\"\n\
             mfa_code_command = \"echo {CODE}\"\n"
        ),
    )
    .unwrap();
    let out = run(
        &shell,
        &["new", "--json", "--preset", preset.to_str().unwrap()],
        &[],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("producer: sandbox-producer-mfa → account 111111111111 (arn:aws:sts::111111111111:assumed-role/xwizard-sandbox-mfa/"),
        "{stderr}"
    );
    said.push_str(&stdout);
    said.push_str(&stderr);

    // A mistyped code is refused before anything is called, without being repeated.
    let out = run(&shell, &["test", "mfa-run", "--mfa-code", "40291x"], &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--mfa-code (or XWIZARD_MFA_CODE): an MFA code is the 6 digits"),
        "{stderr}"
    );
    assert!(!stderr.contains("40291x"), "{stderr}");

    assert!(!said.contains(CODE), "the code was printed: {said}");
    let leaked = files_holding(&shell.dir.join("deployments"), CODE);
    assert!(leaked.is_empty(), "the code is in {leaked:?}");
    let leaked = files_holding(&shell.dir, CODE);
    assert!(leaked.is_empty(), "the code is in {leaked:?}");
}

#[test]
fn a_line_mode_run_asks_once_for_two_profiles_on_one_device() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let env = |name: &str| {
        shell
            .env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    // One IAM user (the producer account's) with one device, and a role in each account:
    // the usual layout of a person with MFA reaching two accounts.
    let aws = tempfile::tempdir().unwrap();
    let config = aws.path().join("config");
    let credentials = aws.path().join("credentials");
    let endpoint = env("XWIZARD_SANDBOX_ENDPOINT_URL");
    let mut text = std::fs::read_to_string(env("AWS_CONFIG_FILE")).unwrap();
    for (name, account) in [
        ("shared-producer", "111111111111"),
        ("shared-consumer", "222222222222"),
    ] {
        text.push_str(&format!(
            "\n[profile {name}]\nregion = us-east-1\nendpoint_url = {endpoint}\n\
             role_arn = arn:aws:iam::{account}:role/xwizard-sandbox-mfa\n\
             source_profile = sandbox-producer\nmfa_serial = {PRODUCER_SERIAL}\n"
        ));
    }
    std::fs::write(&config, text).unwrap();
    std::fs::copy(env("AWS_SHARED_CREDENTIALS_FILE"), &credentials).unwrap();

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(&shell.dir).args([
        "new",
        "--no-tui",
        "--pattern",
        "vpc-endpoint",
        "--producer-profile",
        "shared-producer",
        "--consumer-profile",
        "shared-consumer",
        "--region",
        "us-east-1",
        "--name",
        "mfa-shared",
    ]);
    cmd.env("NO_COLOR", "1")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env_remove("XWIZARD_MFA_CODE");
    let mut p = Session::spawn(cmd).expect("spawn xwizard in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(300)));
    let wait_for = |p: &mut expectrl::session::OsSession, text: &str| match p.expect(text) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(e) => panic!("never saw {text:?}: {e}"),
    };

    let before = wait_for(&mut p, "MFA code for shared-producer?");
    assert!(!before.contains("MFA code"), "{before}");
    wait_for(
        &mut p,
        &format!("the 6 digits that {PRODUCER_SERIAL} shows now"),
    );
    p.send(CODE).unwrap();
    p.send("\r").unwrap();
    let after = wait_for(&mut p, "Apply this change set");
    assert!(
        after.contains("consumer: shared-consumer → account 222222222222"),
        "{after}"
    );
    assert!(
        !after.contains("MFA code for shared-consumer"),
        "asked again for the consumer: {after}"
    );
    assert!(!after.contains(CODE), "the code is on screen: {after}");
    p.send("\x03").unwrap();
    let _ = p.expect(expectrl::Eof);
    let status = p.get_process_mut().wait().unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 130)),
        "{status:?}"
    );
    let leaked = files_holding(&shell.dir, CODE);
    assert!(leaked.is_empty(), "the code is in {leaked:?}");
}
