//! A line-mode run of the real binary in a pseudo-terminal, as a person types it: every
//! question answered at its prompt, Pattern 1 deployed, tested and cleaned up on the sandbox.

use expectrl::{Expect, Session};
use std::process::Command;
use std::time::Duration;

const ENTER: &str = "\r";

fn wait_for(p: &mut impl Expect, text: &str) -> String {
    match p.expect(text) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(e) => panic!("never saw {text:?}: {e}"),
    }
}

#[test]
fn a_line_mode_run_answers_the_prompts_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir")
        .arg(dir.path())
        .args(["sandbox", "--no-tui"]);
    cmd.env("NO_COLOR", "1");
    let mut p = Session::spawn(cmd).expect("spawn xwizard in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(180)));

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
    assert!(
        identities.contains("producer: sandbox-producer → account 111111111111"),
        "{identities}"
    );
    assert!(
        identities.contains("consumer: sandbox-consumer → account 222222222222"),
        "{identities}"
    );
    p.send("y").unwrap();
    p.send(ENTER).unwrap();
    for _ in 0..2 {
        wait_for(&mut p, "Apply this change set");
        p.send("y").unwrap();
        p.send(ENTER).unwrap();
    }
    let tests = wait_for(&mut p, "Delete every stack of");
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
