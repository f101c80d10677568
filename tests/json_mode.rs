//! CI use: no questions, one JSON event per line, the exit status tells the outcome.

mod common;

use common::StopSandbox;
use std::process::{Command, Stdio};

fn xwizard(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xwizard"));
    cmd.arg("--state-dir").arg(dir).stdin(Stdio::null());
    cmd
}

/// The events of a run's stdout, each checked against the published schema.
fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    events.iter().for_each(common::schema::assert_valid_event);
    events
}

fn of_type<'a>(events: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

/// Runs xwizard with `args`, which must succeed: its events.
fn json_run(dir: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = xwizard(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out.stdout)
}

#[test]
fn ci_deploys_retests_and_destroys_with_yes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let _down = StopSandbox(dir.path().to_path_buf());
    // A sandbox already up is reused and left running, so the later commands can reach it.
    assert!(
        xwizard(dir.path())
            .args(["sandbox", "up"])
            .output()
            .unwrap()
            .status
            .success()
    );

    let out = xwizard(dir.path())
        .args(["sandbox", "--yes", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    let events = json_lines(&out.stdout);
    assert_eq!(of_type(&events, "run_started").len(), 1);
    // The pattern as the command line names it; every change-set row says what it replaces.
    assert_eq!(
        of_type(&events, "run_started")[0]["pattern"],
        "vpc-endpoint"
    );
    for set in of_type(&events, "change_set") {
        for row in set["changes"].as_array().unwrap() {
            assert!(row.get("replacement").is_some(), "{row}");
        }
    }
    // The producer's review says what the stack grants: the API answers only through the
    // consumer's endpoint, and the authorizer's role is for Lambda to assume.
    let endpoint = of_type(&events, "outputs")
        .into_iter()
        .find(|e| e["step"] == "consumer-vpc")
        .and_then(|e| e["outputs"]["ConsumerVpcEndpointId"].as_str())
        .expect("the consumer VPC's endpoint id")
        .to_string();
    let producer = of_type(&events, "change_set")
        .into_iter()
        .find(|e| e["step"] == "producer")
        .expect("the producer's change set");
    let details = |logical: &str| -> Vec<(String, String, String)> {
        let row = producer["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["logical_id"] == logical)
            .unwrap_or_else(|| panic!("{logical} in {producer:#}"));
        row["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let field = |k: &str| d[k].as_str().unwrap().to_string();
                (field("change"), field("kind"), field("text"))
            })
            .collect()
    };
    let api = details("Api");
    assert!(
        api.contains(&(
            "added".into(),
            "resource_policy".into(),
            format!("Deny execute-api:Invoke ← * on execute-api:/* if aws:SourceVpce ≠ {endpoint}")
        )),
        "{api:#?}"
    );
    let trust = details("AuthorizerRole");
    assert!(
        trust.contains(&(
            "added".into(),
            "trust".into(),
            "Allow sts:AssumeRole ← lambda.amazonaws.com".into()
        )),
        "{trust:#?}"
    );
    let name = of_type(&events, "run_started")[0]["deployment"]
        .as_str()
        .unwrap()
        .to_string();
    let started: Vec<&str> = of_type(&events, "step_started")
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        started,
        [
            "consumer-vpc",
            "register-targets",
            "producer",
            "scope-endpoint-policy",
            "consumer-api",
            "test"
        ]
    );
    // Each step says which account acts.
    for e in of_type(&events, "step_started") {
        let expected = if e["role"] == "producer" {
            "111111111111"
        } else {
            "222222222222"
        };
        assert_eq!(e["account_id"], expected, "{e}");
    }
    assert!(
        of_type(&events, "stack_event").len() > 50,
        "live stack events are streamed"
    );
    let checks = of_type(&events, "check");
    assert_eq!(checks.len(), 6);
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
    assert_eq!(
        of_type(&events, "run_finished").last().unwrap()["status"],
        "deployed"
    );

    let list = xwizard(dir.path()).arg("list").output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    let row = list
        .lines()
        .find(|l| l.starts_with(&format!("{name:<22} pattern 1  deployed")))
        .unwrap_or_else(|| panic!("{name} not listed as deployed:\n{list}"));
    // Made seconds ago.
    assert!(row.ends_with("s old"), "{row}");

    // A just-made API may answer 5xx for a while: the checks ask again before judging.
    json_run(dir.path(), &["sandbox", "fault", "unavailable", "2"]);
    let retest = json_run(dir.path(), &["test", &name, "--json"]);
    let checks = of_type(&retest, "check");
    assert_eq!(checks.len(), 6);
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
    assert_eq!(checks[0]["attempts"], 3, "{:#}", checks[0]);
    assert!(checks[1..].iter().all(|c| c["attempts"] == 1));
    // Each answer worth waiting out is said as it comes, in full, with the check's name.
    let retries: Vec<_> = of_type(&retest, "check_retry")
        .into_iter()
        .map(|e| {
            (
                e["check"].as_str(),
                e["attempt"].as_u64(),
                e["cause"].as_str(),
            )
        })
        .collect();
    let first = checks[0]["name"].as_str();
    assert_eq!(
        retries,
        [(first, Some(1), Some("503")), (first, Some(2), Some("503"))]
    );

    // A test run that fails (nothing answers where its calls are sent) says so and exits 2,
    // and the deployment is still deployed: a tunnel that is down is not a broken deployment.
    let failing = xwizard(dir.path())
        .args(["test", &name, "--json", "--connect-to", "::127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(failing.status.code(), Some(2), "{failing:?}");
    let failed_checks = json_lines(&failing.stdout);
    let api_checks: Vec<_> = of_type(&failed_checks, "check")
        .into_iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("consumer API"))
        .collect();
    assert!(
        api_checks
            .iter()
            .all(|c| c["passed"] == false && c["attempts"] == 1),
        "no connection is judged at once, not retried as an API warming up: {api_checks:#?}"
    );
    let list = xwizard(dir.path()).arg("list").output().unwrap();
    assert!(
        String::from_utf8_lossy(&list.stdout).contains(&format!("{name:<22} pattern 1  deployed")),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );

    // Without --yes, a JSON run cannot ask: the missing answer is named, nothing is deleted.
    let refused = xwizard(dir.path())
        .args(["destroy", &name, "--json"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Pass --yes"));

    // A cleanup that cannot delete something says, on every channel, that destroy carries on.
    json_run(
        dir.path(),
        &[
            "sandbox",
            "fault",
            "fail-resource",
            "EndpointSecurityGroup",
            "--on",
            "delete",
            "--stack",
            &format!("xw-{name}-consumer-vpc"),
        ],
    );
    let blocked = xwizard(dir.path())
        .args(["destroy", &name, "--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(blocked.status.code(), Some(2));
    let said = String::from_utf8_lossy(&blocked.stderr);
    assert!(
        said.contains(&format!("`xwizard destroy {name}` carries on")) && !said.contains("resume"),
        "{said}"
    );
    let failed = json_lines(&blocked.stdout);
    assert!(
        of_type(&failed, "step_failed").iter().all(|e| e["next"]
            .as_str()
            .unwrap()
            .contains(&format!("xwizard destroy {name}"))),
        "{failed:#?}"
    );

    let gone = json_run(dir.path(), &["destroy", &name, "--yes", "--json"]);
    assert_eq!(
        of_type(&gone, "run_finished").last().unwrap()["status"],
        "destroyed"
    );
    // Each deletion is a step of its own: started with its stack, account and wave, and done
    // with its time, so a reader can tell the two accounts' events apart.
    let deletions: Vec<_> = of_type(&gone, "step_started")
        .into_iter()
        .filter(|e| e["phase"] == "cleanup")
        .collect();
    assert!(!deletions.is_empty(), "{gone:#?}");
    for started in &deletions {
        let step = &started["step"];
        assert!(
            started["stack"]
                .as_str()
                .is_some_and(|s| s.starts_with("xw-"))
        );
        assert!(started["wave"].is_u64(), "{started}");
        let done = of_type(&gone, "step_done")
            .into_iter()
            .find(|e| e["step"] == *step && e["phase"] == "cleanup");
        assert!(done.is_some(), "{step} never said done: {gone:#?}");
    }
    let result = of_type(&gone, "cleanup_result");
    assert_eq!(result.len(), 1, "{gone:#?}");
    assert_eq!(result[0]["clean"], true);
    let status = xwizard(dir.path())
        .args(["status", &name])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("destroyed"));
}

/// `xwizard new --yes` with every answer given, `name` and `region` as they come.
fn new_with(dir: &std::path::Path, name: &str, region: &str) -> std::process::Output {
    xwizard(dir)
        .args(["new", "--yes", "--pattern", "vpc-endpoint", "--name", name])
        .args(["--producer-profile", "a", "--consumer-profile", "b"])
        .args(["--region", region])
        .output()
        .unwrap()
}

#[test]
fn the_schema_refuses_what_the_events_never_are() {
    use serde_json::json;
    for wrong in [
        json!({"type": "info"}),
        json!({"type": "info", "step": "x", "message": "m", "extra": 1}),
        json!({"type": "run_finished", "deployment": "d", "status": "maybe"}),
        json!({"type": "nonsense"}),
        json!({"type": "change_set", "step": "p", "stack": "s", "changes": [{
            "action": "Add", "logical_id": "Role", "resource_type": "AWS::IAM::Role",
            "replacement": null, "access": true, "replaced_by": [],
            "details": [{"change": "granted", "kind": "trust", "text": "t"}]}]}),
    ] {
        let refused = std::panic::catch_unwind(|| common::schema::assert_valid_event(&wrong));
        assert!(refused.is_err(), "{wrong} passed the schema");
    }
    common::schema::assert_valid_event(&json!({"type": "info", "step": "x", "message": "m"}));
}

#[test]
fn a_missing_answer_without_a_terminal_is_an_error_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = xwizard(dir.path()).args(["new", "--yes"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing answer") && stderr.contains("--pattern"),
        "{stderr}"
    );

    let out = new_with(dir.path(), "Bad_Name", "us-east-1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("Bad_Name") && stderr.contains("lowercase"),
        "{stderr}"
    );

    // A mistyped region is named before any AWS call (none could succeed), and nothing is
    // saved.
    let out = new_with(dir.path(), "good-name", "us-east1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("'us-east1' is not a region name") && stderr.contains("--region"),
        "{stderr}"
    );
    assert!(!dir.path().join("deployments/good-name.toml").exists());
}
