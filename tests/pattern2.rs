//! Pattern 2 end to end on the sandbox, in two accounts, through the binary as CI drives it
//! (JSON events, no terminal): the connection waits `pendingAcceptance` until it is answered,
//! the four mTLS checks pass from the consumer's instance, no key or secret shows anywhere,
//! and cleanup leaves nothing of the run in either account.

mod common;

use common::shell::{Shell, finish_with, said_nothing_is_left, shell_on_a_sandbox, wait_event};
use xwizard::aws::{ProfileSource, Session};

fn profiles(shell: &Shell) -> ProfileSource {
    let env = |k: &str| {
        shell
            .env
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{k} in `xwizard sandbox env`"))
    };
    ProfileSource::files(
        env("AWS_CONFIG_FILE").into(),
        env("AWS_SHARED_CREDENTIALS_FILE").into(),
    )
}

async fn session(shell: &Shell, role: &str) -> Session {
    Session::load(&format!("sandbox-{role}"), None, &profiles(shell)).await
}

fn of_type<'a>(events: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

fn output(shell: &Shell, name: &str, step: &str, key: &str) -> String {
    let status: serde_json::Value =
        serde_json::from_str(&shell.ok(&["status", name, "--json"])).unwrap();
    status["steps"][step]["outputs"][key]
        .as_str()
        .unwrap_or_else(|| panic!("{step}.{key} in {status:#}"))
        .to_string()
}

/// Every file under `dir`, as text (binary files lossily).
fn all_text_under(dir: &std::path::Path) -> String {
    let mut text = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}

fn mtls_checks(events: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    of_type(events, "check")
}

const PATTERN_2: &[&str] = &[
    "--pattern",
    "mtls-privatelink",
    "--producer-profile",
    "sandbox-producer",
    "--consumer-profile",
    "sandbox-consumer",
    "--region",
    "us-east-1",
    "--domain",
    "xwizard.test",
];

#[tokio::test(flavor = "multi_thread")]
async fn local_ca_waits_for_acceptance_passes_mtls_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let name = "mtls-local";

    // Without --accept-connection and without a terminal nobody may accept: the run stops,
    // waiting, with the request in its events.
    let mut args = vec!["new", "--json", "--yes", "--name", name];
    args.extend_from_slice(PATTERN_2);
    let (child, rx) = shell.spawn(&args);
    let seen = wait_event(&rx, "the pending connection", |e| {
        e["type"] == "connection_pending"
    });
    let events = finish_with(child, rx, seen, 3);
    let pending = of_type(&events, "connection_pending")[0];
    assert_eq!(pending["requester_account"], "222222222222");
    assert_eq!(pending["expected_account"], "222222222222");
    let answered = of_type(&events, "connection_answered");
    assert_eq!(answered[0]["answer"], "later", "{answered:#?}");
    assert_eq!(
        of_type(&events, "run_finished")[0]["status"],
        "waiting",
        "{events:#?}"
    );
    // What the producer sees in AWS: the connection still waits.
    let producer = session(&shell, "producer").await;
    let consumer = session(&shell, "consumer").await;
    let service_id = output(&shell, name, "producer-api", "EndpointServiceId");
    let endpoint_id = output(&shell, name, "consumer", "ServiceEndpointId");
    let services = xwizard::aws::endpoint_services::EndpointServices::new(&producer);
    let connections = services
        .connections(&service_id, &endpoint_id)
        .await
        .unwrap();
    assert_eq!(connections[0].state, "pendingAcceptance");
    // `status` says what it waits for and how to answer.
    let status =
        String::from_utf8(shell.command(&["status", name]).output().unwrap().stdout).unwrap();
    assert!(status.contains("waits for your answer"), "{status}");
    assert!(status.contains("--accept-connection"), "{status}");

    // Answered: the run carries on, accepts, and the four mTLS checks pass.
    let (child, rx) = shell.spawn(&["resume", name, "--json", "--yes", "--accept-connection"]);
    let events = finish_with(child, rx, Vec::new(), 0);
    let answered = of_type(&events, "connection_answered");
    assert_eq!(answered[0]["answer"], "accept");
    assert_eq!(answered[0]["by"], "flag");
    let checks = mtls_checks(&events);
    assert_eq!(checks.len(), 4, "{checks:#?}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
    assert_eq!(checks[0]["body"], r#"{"id":"1","value":"4.99"}"#);
    let connections = services
        .connections(&service_id, &endpoint_id)
        .await
        .unwrap();
    assert_eq!(connections[0].state, "available");

    // `xwizard test` runs them again, and the user gets a certificate of their own.
    let (child, rx) = shell.spawn(&["test", name, "--json"]);
    let retest = finish_with(child, rx, Vec::new(), 0);
    assert_eq!(mtls_checks(&retest).len(), 4);
    let out = dir.path().join("my-cert");
    let written = shell.ok(&["cert", name, "--out", out.to_str().unwrap()]);
    assert_eq!(written.lines().count(), 3, "{written}");
    let key_file = out.join(format!("{name}.key"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let user_key = std::fs::read_to_string(&key_file).unwrap();
    assert!(user_key.contains("PRIVATE KEY"));

    // No secret anywhere: not the API key, not a private key, in the record, the events,
    // the messages, or the commands SSM ran.
    let secret_arn = output(&shell, name, "producer-network", "ApiKeySecretArn");
    let api_key = xwizard::aws::secrets::read(&producer, &secret_arn)
        .await
        .unwrap()
        .expose()
        .to_string();
    assert!(api_key.len() >= 20);
    let ssm = aws_sdk_ssm::Client::new(&consumer.config);
    let commands = format!("{:?}", ssm.list_commands().send().await.unwrap());
    let stderr = std::fs::read_to_string(shell.stderr_log()).unwrap_or_default();
    let state = all_text_under(&dir.path().join("deployments"));
    // The emulator's log: every request it served, the commands' included.
    let log = std::fs::read_to_string(dir.path().join("sandbox/emulator.log"))
        .expect("the sandbox's emulator.log");
    let events_text = format!("{events:?}{retest:?}");
    for (place, text) in [
        ("the state directory", &state),
        ("the events", &events_text),
        ("the messages", &stderr),
        ("the SSM commands", &commands),
        ("the emulator's log", &log),
    ] {
        assert!(!text.contains(&api_key), "the API key is in {place}");
        assert!(!text.contains("PRIVATE KEY"), "a private key is in {place}");
        assert!(
            !text.contains(user_key.trim()),
            "the user's key is in {place}"
        );
    }

    // Cleanup: consumer first, then the producer's two stacks; nothing left, keys gone.
    let (child, rx) = shell.spawn(&["destroy", name, "--json", "--yes"]);
    let events = finish_with(child, rx, Vec::new(), 0);
    said_nothing_is_left(&events);
    let deleted: Vec<&str> = of_type(&events, "step_done")
        .iter()
        .filter(|e| e["phase"] == "cleanup")
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(deleted, ["consumer", "producer-api", "producer-network"]);
    let store = xwizard::keys::KeyStore::open(None).unwrap();
    for entry in ["ca-key", "client-key"] {
        assert_eq!(
            store.get(name, entry).unwrap(),
            None,
            "{entry} is still kept"
        );
    }
    assert!(
        services
            .connections(&service_id, &endpoint_id)
            .await
            .is_err()
            || services
                .connections(&service_id, &endpoint_id)
                .await
                .unwrap()
                .iter()
                .all(|c| c.state == "deleted"),
        "the service is gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn private_ca_signs_the_client_and_is_deleted_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let name = "mtls-pca";
    let mut args = vec![
        "new",
        "--json",
        "--yes",
        "--name",
        name,
        "--ca",
        "private-ca-short-lived",
        "--accept-connection",
    ];
    args.extend_from_slice(PATTERN_2);
    let (child, rx) = shell.spawn(&args);
    let events = finish_with(child, rx, Vec::new(), 0);
    let checks = mtls_checks(&events);
    assert_eq!(checks.len(), 4, "{checks:#?}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
    let ca_arn = output(&shell, name, "ca", "CaArn");
    let producer = session(&shell, "producer").await;
    let pca = aws_sdk_acmpca::Client::new(&producer.config);
    let status = || async {
        pca.describe_certificate_authority()
            .certificate_authority_arn(&ca_arn)
            .send()
            .await
            .unwrap()
            .certificate_authority()
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    };
    assert_eq!(status().await, "ACTIVE");

    // A destroy without --delete-private-ca keeps it, and says so.
    let (child, rx) = shell.spawn(&["destroy", name, "--json", "--yes"]);
    let events = finish_with(child, rx, Vec::new(), 0);
    let result = of_type(&events, "cleanup_result")[0];
    let kept = result["kept"].as_array().unwrap();
    assert!(
        kept.iter()
            .any(|k| k["what"].as_str().unwrap().contains(&ca_arn)
                && k["why"].as_str().unwrap().contains("--delete-private-ca")),
        "{result:#}"
    );
    // Asked: it is disabled and deleted (restorable for a while, as AWS keeps it).
    let (child, rx) = shell.spawn(&["destroy", name, "--json", "--yes", "--delete-private-ca"]);
    let events = finish_with(child, rx, Vec::new(), 0);
    said_nothing_is_left(&events);
    assert_eq!(status().await, "DELETED");
}

/// `xwizard sandbox` offers Pattern 2 and, without a terminal, runs it through on the sandbox
/// preset (its domain, a local CA, the connection accepted as the preset names it), tests it
/// and cleans up.
#[test]
fn the_sandbox_runs_pattern_2_through_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let _down = common::StopSandbox(dir.path().to_path_buf());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xwizard"))
        .arg("--state-dir")
        .arg(dir.path())
        .args(["sandbox", "--pattern", "mtls-privatelink", "--json"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    events.iter().for_each(common::schema::assert_valid_event);
    assert_eq!(
        of_type(&events, "run_started")[0]["pattern"],
        "mtls-privatelink"
    );
    let checks = mtls_checks(&events);
    assert_eq!(checks.len(), 4, "{checks:#?}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:#?}");
    said_nothing_is_left(&events);
    assert!(stderr.contains("Sandbox stopped"), "{stderr}");
}

/// Answers yes to every review, and rejects the connection.
struct RejectsTheConnection;

impl xwizard::engine::Asker for RejectsTheConnection {
    fn confirm<'a>(
        &'a self,
        _q: &'a xwizard::engine::Question,
    ) -> xwizard::engine::events::BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async { Ok(true) })
    }

    fn connection<'a>(
        &'a self,
        _q: &'a xwizard::engine::Question,
    ) -> xwizard::engine::events::BoxFuture<'a, anyhow::Result<xwizard::engine::ConnectionAnswer>>
    {
        Box::pin(async { Ok(xwizard::engine::ConnectionAnswer::Reject) })
    }
}

/// A rejected connection: the endpoint is refused in AWS, the run ends waiting, and `status`
/// says it cannot ask again and what to do; cleanup still removes everything.
#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_connection_is_refused_in_aws_and_explained() {
    use common::deploy::{Recorder, prepare_with, sandbox_answers};
    let sb = common::sandbox();
    let mut answers = sandbox_answers(xwizard::plan::Pattern::MtlsPrivateLink);
    answers.accept_connection = None;
    let run = prepare_with(sb, &answers).await;
    let rec = Recorder::default();
    let outcome = xwizard::engine::Engine::new(
        run.deployment.clone(),
        &run.store,
        &run.sessions,
        &rec,
        &RejectsTheConnection,
        run.opts.clone(),
    )
    .run()
    .await
    .unwrap();
    assert_eq!(outcome, xwizard::engine::Outcome::Waiting, "{}", rec.json());
    let d = run.store.load(&run.deployment.name).unwrap();
    let step = d.step("accept-connection");
    assert_eq!(step.status, xwizard::state::StepStatus::Waiting);
    let status = xwizard::ui::line::status(&d);
    assert!(status.contains("you rejected the connection"), "{status}");
    assert!(status.contains("cannot ask again"), "{status}");
    assert_eq!(d.step("test").status, xwizard::state::StepStatus::Pending);
    let services = xwizard::aws::endpoint_services::EndpointServices::new(&run.sessions.producer);
    let connections = services
        .connections(
            &common::deploy::output(&d, "producer-api", "EndpointServiceId"),
            &common::deploy::output(&d, "consumer", "ServiceEndpointId"),
        )
        .await
        .unwrap();
    assert_eq!(connections[0].state, "rejected");

    completes(&run, d, true).await;
}

/// A run killed while its Private CA is being made, resumed: the CA it had bought is the one
/// it finishes, never a second one (each costs money every month).
#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_while_buying_a_private_ca_resumes_with_that_ca() {
    use common::deploy::{Recorder, engine_for, prepare_with, sandbox_answers};
    let sb = common::sandbox();
    let mut answers = sandbox_answers(xwizard::plan::Pattern::MtlsPrivateLink);
    answers.ca = Some("private-ca-short-lived".into());
    let run = prepare_with(sb, &answers).await;
    let name = run.deployment.name.clone();
    // Held: the CA stays CREATING, so the run is inside the CA step when it is stopped.
    sb.control().hold_work("acm-pca").await.unwrap();
    let rec = Recorder::default();
    {
        let mut engine = engine_for(&run, run.deployment.clone(), &rec);
        let ca_saved = common::wait_for(
            "the CA's ARN in the record",
            common::shell::DEADLINE,
            || async {
                run.store
                    .load(&name)
                    .ok()?
                    .step("ca")
                    .outputs
                    .get("CaArn")
                    .cloned()
            },
        );
        tokio::select! {
            outcome = engine.run() => panic!("the run ended while its CA was held: {outcome:?}"),
            _ = ca_saved => {}
        }
        // Dropped here, between two awaits: as a kill leaves it.
    }
    sb.control().release_work("acm-pca").await.unwrap();
    let d = run.store.load(&name).unwrap();
    let first = d.step("ca").outputs["CaArn"].clone();
    completes(&run, d, false).await;
    let d = run.store.load(&name).unwrap();
    assert_eq!(d.step("ca").outputs["CaArn"], first);
    let bought = xwizard::aws::pca::PrivateCa::new(&run.sessions.producer)
        .find_for_deployment(&name)
        .await
        .unwrap();
    assert_eq!(bought.len(), 1, "{bought:?}");

    let mut d = d;
    d.settings.insert("delete_private_ca".into(), "yes".into());
    completes(&run, d, true).await;
}

/// Runs a fresh engine on `d` (yes to every question), deploying or destroying; it must
/// complete.
async fn completes(run: &common::deploy::Run, d: xwizard::state::Deployment, destroy: bool) {
    let rec = common::deploy::Recorder::default();
    let mut engine = common::deploy::engine_for(run, d, &rec);
    let outcome = if destroy {
        engine.destroy().await
    } else {
        engine.run().await
    };
    assert_eq!(
        outcome.unwrap(),
        xwizard::engine::Outcome::Completed,
        "{}",
        rec.json()
    );
}

/// A CA the user brings: its key is read once into the key store, the ALB trusts it, the four
/// checks pass with a certificate it signed, and cleanup removes the key again.
#[tokio::test(flavor = "multi_thread")]
async fn a_brought_ca_signs_the_client_and_its_key_leaves_with_the_deployment() {
    use common::deploy::{Recorder, prepare_with, sandbox_answers};
    let sb = common::sandbox();
    let files = tempfile::tempdir().unwrap();
    let ca = xwizard::ca::LocalCa::new("Example Corp test CA", 30).unwrap();
    let (cert_file, key_file) = (files.path().join("ca.pem"), files.path().join("ca.key"));
    std::fs::write(&cert_file, ca.cert_pem()).unwrap();
    std::fs::write(&key_file, ca.key_pem()).unwrap();
    let mut answers = sandbox_answers(xwizard::plan::Pattern::MtlsPrivateLink);
    answers.ca = Some("bring-your-own".into());
    answers.ca_certificate_file = Some(cert_file.display().to_string());
    answers.ca_key_file = Some(key_file.display().to_string());
    let run = prepare_with(sb, &answers).await;
    let name = run.deployment.name.clone();
    let rec = Recorder::default();
    let outcome = common::deploy::engine_for(&run, run.deployment.clone(), &rec)
        .run()
        .await
        .unwrap();
    assert_eq!(
        outcome,
        xwizard::engine::Outcome::Completed,
        "{}",
        rec.json()
    );
    let checks: Vec<_> = rec
        .events()
        .into_iter()
        .filter_map(|e| match e {
            xwizard::engine::Event::Check { check, .. } => Some(check),
            _ => None,
        })
        .collect();
    assert_eq!(checks.len(), 4);
    assert!(checks.iter().all(|c| c.passed), "{checks:#?}");
    let d = run.store.load(&name).unwrap();
    assert_eq!(d.step("ca").outputs["CaCertificate"], ca.cert_pem());
    let store = xwizard::keys::KeyStore::open(None).unwrap();
    assert_eq!(
        store.get(&name, "ca-key").unwrap().as_deref(),
        Some(ca.key_pem())
    );
    // The record names the files, never holds the key.
    let record = std::fs::read_to_string(run.store.path(&name)).unwrap();
    assert!(!record.contains("PRIVATE KEY"));

    completes(&run, d, true).await;
    assert_eq!(store.get(&name, "ca-key").unwrap(), None);
}
