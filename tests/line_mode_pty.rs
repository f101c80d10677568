//! A line-mode run of the real binary in a pseudo-terminal, as a person types it: every
//! question answered at its prompt, Pattern 1 deployed, tested and cleaned up on the sandbox.

mod common;

use expectrl::{Expect, Session};
use std::process::Command;
use std::time::Duration;

const ENTER: &str = "\r";

/// `xwizard --state-dir DIR ARGS` in a pseudo-terminal, without colour.
fn spawn(dir: &std::path::Path, args: &[&str]) -> expectrl::session::OsSession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(dir).args(args);
    cmd.env("NO_COLOR", "1");
    let mut p = Session::spawn(cmd).expect("spawn xwizard in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(600)));
    p
}

fn wait_for(p: &mut impl Expect, text: &str) -> String {
    match p.expect(text) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(e) => panic!("never saw {text:?}: {e}"),
    }
}

#[test]
fn a_line_mode_run_answers_the_prompts_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["sandbox", "--no-tui"]);

    wait_for(&mut p, "Which pattern?");
    p.send(ENTER).unwrap();
    wait_for(&mut p, "Which AWS profile is the producer?");
    p.send(ENTER).unwrap();
    wait_for(&mut p, "Which AWS profile is the consumer?");
    p.send(ENTER).unwrap();
    wait_for(&mut p, "Region?");
    p.send(ENTER).unwrap();
    wait_for(&mut p, "Deployment name?");
    p.send(ENTER).unwrap();
    let identities = wait_for(&mut p, "Apply this change set");
    assert_eq!(
        identities.matches("change set for ").count(),
        1,
        "the change set is shown once before its question: {identities}"
    );
    assert!(
        identities.contains("producer: sandbox-producer → account 111111111111"),
        "{identities}"
    );
    assert!(
        identities.contains("consumer: sandbox-consumer → account 222222222222"),
        "{identities}"
    );
    // Each access change shows what it grants: here the key's grant to the producer account.
    assert!(
        identities
            .contains("+ Allow kms:Decrypt, kms:DescribeKey ← arn:aws:iam::111111111111:root on *"),
        "{identities}"
    );
    p.send("y").unwrap();
    p.send(ENTER).unwrap();
    let mut transcript = String::new();
    for _ in 0..2 {
        transcript += &wait_for(&mut p, "Apply this change set");
        p.send("y").unwrap();
        p.send(ENTER).unwrap();
    }
    let tests = wait_for(&mut p, "Delete every stack of");
    transcript += &tests;
    // The producer's review: its API answers only through the consumer's endpoint.
    assert!(
        transcript
            .contains("+ Deny execute-api:Invoke ← * on execute-api:/* if aws:SourceVpce ≠ vpce-"),
        "{transcript}"
    );
    assert!(
        tests.contains("PASS consumer API with the API key"),
        "{tests}"
    );
    assert!(tests.contains("PASS consumer API without a key"), "{tests}");
    assert!(tests.contains("PASS consumer function"), "{tests}");
    p.send("y").unwrap();
    p.send(ENTER).unwrap();
    // A fresh sandbox has no API Gateway logging role: each account got one, and keeps it.
    for account in ["111111111111", "222222222222"] {
        wait_for(
            &mut p,
            &format!("kept on purpose: arn:aws:iam::{account}:role/"),
        );
    }
    wait_for(
        &mut p,
        "nothing else of this deployment is left in either account",
    );
    wait_for(&mut p, "Sandbox stopped");
    let status = p.get_process_mut().wait().unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    // The record of a deployment that lived in the stopped sandbox goes with it.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("deployments"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The exit status of the pty's process once it has ended.
fn exit_status(p: &mut expectrl::session::OsSession) -> expectrl::process::unix::WaitStatus {
    // Read to the end first: a process blocked on a full pty never exits.
    let _ = p.expect(expectrl::Eof);
    p.get_process_mut().wait().unwrap()
}

#[test]
fn ctrl_c_at_a_prompt_exits_130_and_at_a_review_keeps_the_run_resumable() {
    use expectrl::process::unix::WaitStatus;
    // At the first question nothing has started.
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["new", "--no-tui"]);
    wait_for(&mut p, "Which pattern?");
    p.send("\x03").unwrap();
    wait_for(&mut p, "Interrupted: nothing was started.");
    assert!(
        matches!(exit_status(&mut p), WaitStatus::Exited(_, 130)),
        "Ctrl-C at a prompt exits 130, as the README says"
    );

    // At a change-set review: the run stops as on SIGINT, kept for `xwizard resume`.
    let _stop = common::StopSandbox(dir.path().to_path_buf());
    let mut p = spawn(dir.path(), &["sandbox", "--no-tui"]);
    for question in [
        "Which pattern?",
        "Which AWS profile is the producer?",
        "Which AWS profile is the consumer?",
        "Region?",
    ] {
        wait_for(&mut p, question);
        p.send(ENTER).unwrap();
    }
    wait_for(&mut p, "Deployment name?");
    p.send("\x7f".repeat(20)).unwrap();
    p.send("ctrl-c-run").unwrap();
    p.send(ENTER).unwrap();
    wait_for(&mut p, "Apply this change set");
    p.send("\x03").unwrap();
    wait_for(&mut p, "`xwizard resume ctrl-c-run` picks it up");
    wait_for(&mut p, "keeps running for the unfinished deployment");
    assert!(matches!(exit_status(&mut p), WaitStatus::Exited(_, 130)));
    let record = xwizard::state::Store::new(dir.path())
        .load("ctrl-c-run")
        .unwrap();
    assert_eq!(
        record.step("consumer-vpc").status,
        xwizard::state::StepStatus::Running,
        "left as a kill leaves it, for resume to reconcile"
    );
}

/// Each profile is checked with STS as soon as it is chosen: one that cannot sign in is said
/// at once, and asked again, before the next question.
#[test]
fn a_profile_that_cannot_sign_in_is_said_at_once_and_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = common::shell::shell_on_a_sandbox(dir.path());
    let env: std::collections::HashMap<String, String> = shell.env.iter().cloned().collect();
    // The sandbox's profiles and one whose credentials cannot be had.
    let config = dir.path().join("config-with-a-broken-profile");
    let mut text = std::fs::read_to_string(&env["AWS_CONFIG_FILE"]).unwrap();
    text.push_str("\n[profile broken]\ncredential_process = false\nregion = us-east-1\n");
    std::fs::write(&config, text).unwrap();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir")
        .arg(dir.path())
        .args(["new", "--no-tui"])
        .envs(&env)
        .env("AWS_CONFIG_FILE", &config)
        .env("NO_COLOR", "1");
    let mut p = Session::spawn(cmd).expect("spawn xwizard in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(600)));

    wait_for(&mut p, "Which pattern?");
    p.send(ENTER).unwrap();
    wait_for(&mut p, "Which AWS profile is the producer?");
    // inquire filters the list as one types.
    p.send("broken").unwrap();
    p.send(ENTER).unwrap();
    // The prompt redraws as one types: what comes after the answer is what counts.
    let said = wait_for(&mut p, "profile 'broken' could not be verified");
    assert!(!said.contains("is the consumer"), "{said}");
    let said = wait_for(&mut p, "Which AWS profile is the producer?");
    assert!(!said.contains("is the consumer"), "{said}");
    p.send("sandbox-producer").unwrap();
    p.send(ENTER).unwrap();
    let said = wait_for(&mut p, "Which AWS profile is the consumer?");
    assert!(
        said.contains("producer: sandbox-producer is account 111111111111"),
        "{said}"
    );
    // Nothing is made yet: leaving now leaves nothing behind.
    p.send("\x03").unwrap();
    p.expect(expectrl::Eof).ok();
    assert!(
        std::fs::read_dir(dir.path().join("deployments"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    );
}

const DOWN: &str = "\x1b[B";

/// Pattern 2 at line prompts: its own questions (the sandbox gives the domain), the Private
/// CA's price confirmed before it is taken (declined here), and the connection shown once and
/// answered at a prompt of three.
#[test]
fn pattern_2_asks_its_settings_and_the_connection_at_line_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn(dir.path(), &["sandbox", "--no-tui"]);
    wait_for(&mut p, "Which pattern?");
    p.send(DOWN).unwrap();
    p.send(ENTER).unwrap();
    for prompt in [
        "Which AWS profile is the producer?",
        "Which AWS profile is the consumer?",
        "Region?",
        "Deployment name?",
        "Subdomain the service answers on?",
    ] {
        wait_for(&mut p, prompt);
        p.send(ENTER).unwrap();
    }
    wait_for(
        &mut p,
        "Which certificate authority signs the client certificates?",
    );
    // The general-purpose Private CA: its price is asked about, and declined.
    p.send(DOWN).unwrap();
    p.send(ENTER).unwrap();
    wait_for(&mut p, "costs $400 for every month it exists");
    p.send("n").unwrap();
    p.send(ENTER).unwrap();
    wait_for(
        &mut p,
        "Which certificate authority signs the client certificates?",
    );
    p.send(ENTER).unwrap();
    let mut transcript = String::new();
    for _ in 0..3 {
        transcript += &wait_for(&mut p, "Apply this change set");
        p.send("y").unwrap();
        p.send(ENTER).unwrap();
    }
    let asked = wait_for(&mut p, "Accept the connection of vpce-");
    assert_eq!(
        asked.matches("asks to connect to endpoint service").count(),
        1,
        "who asks is shown once: {asked}"
    );
    assert!(
        asked.contains("account   222222222222 (this deployment's consumer)"),
        "{asked}"
    );
    p.send(ENTER).unwrap(); // Accept, the first answer
    let tests = wait_for(&mut p, "Delete every stack of");
    assert!(tests.contains("is accepted"), "{tests}");
    assert_eq!(tests.matches("  PASS ").count(), 4, "{tests}");
    assert!(!transcript.contains("acm-pca"), "no Private CA was bought");
    p.send("y").unwrap();
    p.send(ENTER).unwrap();
    let cleanup = wait_for(&mut p, "Sandbox stopped");
    assert!(
        cleanup.contains("removed: private key ca-key from"),
        "{cleanup}"
    );
}
