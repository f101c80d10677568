//! Pattern 1 end to end on the sandbox, in two accounts, checked as a user would check it in
//! the console: what is where, what is allowed, what the test calls saw, what cleanup left.

mod common;

use common::deploy::{Recorder, deployed, engine_for, output, prepare, stack_exists};
use common::sandbox;
use xwizard::aws::Session;
use xwizard::engine::{CheckView, Event, Outcome, Phase};
use xwizard::plan::Role;
use xwizard::sandbox::FaultOn;
use xwizard::state::{Deployment, StepStatus};

/// The one endpoint the producer API's resource policy does not deny.
async fn admitted_endpoint(producer: &Session, d: &Deployment) -> String {
    let api = aws_sdk_apigateway::Client::new(&producer.config)
        .get_rest_api()
        .rest_api_id(output(d, "producer", "ApiId"))
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(
        &api.policy()
            .unwrap()
            .replace("\\\"", "\"")
            .replace("\\/", "/"),
    )
    .unwrap();
    let deny = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Effect"] == "Deny")
        .expect("a Deny statement");
    deny["Condition"]["StringNotEquals"]["aws:SourceVpce"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The load balancer's targets are exactly the endpoint's addresses.
async fn assert_targets_are_the_endpoint(consumer: &Session, d: &Deployment) {
    let endpoints = xwizard::aws::endpoints::Endpoints::new(consumer);
    let ips = endpoints
        .endpoint_ips(&output(d, "consumer-vpc", "ConsumerVpcEndpointId"))
        .await
        .unwrap();
    assert!(!ips.is_empty());
    let tg = output(d, "consumer-vpc", "ApiTargetGroupArn");
    assert_eq!(endpoints.registered_targets(&tg).await.unwrap(), ips);
}

fn checks_of(rec: &Recorder) -> Vec<CheckView> {
    rec.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Check { check, .. } => Some(check),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn pattern1_deploys_tests_and_cleans_up_across_two_accounts() {
    let sb = sandbox();
    let run = prepare(sb).await;
    let rec = Recorder::default();
    let mut engine = engine_for(&run, run.deployment.clone(), &rec);
    let outcome = engine.run().await.unwrap();
    let d = run.store.load(&run.deployment.name).unwrap();
    assert_eq!(
        outcome,
        Outcome::Completed,
        "{}",
        xwizard::ui::line::status(&d)
    );
    let (producer, consumer) = (&run.sessions.producer, &run.sessions.consumer);
    let name = &d.name;

    // Each stack in its own account, and only there.
    for (stack, owner, other) in [
        (format!("xw-{name}-consumer-vpc"), consumer, producer),
        (format!("xw-{name}-producer"), producer, consumer),
        (format!("xw-{name}-consumer-api"), consumer, producer),
    ] {
        assert!(
            stack_exists(owner, &stack).await,
            "{stack} missing in its account"
        );
        assert!(
            !stack_exists(other, &stack).await,
            "{stack} also in the other account"
        );
    }

    // The producer API refuses every endpoint but the consumer's.
    let endpoint_id = output(&d, "consumer-vpc", "ConsumerVpcEndpointId");
    assert_eq!(admitted_endpoint(producer, &d).await, endpoint_id);

    // The load balancer's targets are the endpoint's addresses.
    let endpoints = xwizard::aws::endpoints::Endpoints::new(consumer);
    assert_targets_are_the_endpoint(consumer, &d).await;

    // The endpoint policy allows invoking the producer API only.
    let endpoint_policy: serde_json::Value = serde_json::from_str(
        &endpoints
            .endpoint_policy(&endpoint_id)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let statements = endpoint_policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Action"], "execute-api:Invoke");
    assert_eq!(
        statements[0]["Resource"],
        output(&d, "producer", "ApiExecuteArn")
    );

    // The test calls: the key works, no key and a wrong key are refused, the function answers,
    // and the producer refuses by itself both another endpoint and a wrong key.
    let checks = checks_of(&rec);
    assert_eq!(checks.len(), 6, "{checks:#?}");
    assert!(checks.iter().all(|c| c.passed), "{checks:#?}");
    assert_eq!(checks[0].status, Some(200));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&checks[0].body).unwrap(),
        serde_json::json!({"id":"1","value":"4.99"})
    );
    assert_eq!(checks[1].status, Some(401));
    assert_eq!(checks[2].status, Some(403));
    let probe_endpoint = output(&d, "consumer-vpc", "ProbeEndpointId");
    assert_ne!(probe_endpoint, endpoint_id);
    let other = &checks[4];
    assert_eq!(
        other.name,
        "producer refuses a call through another endpoint"
    );
    assert!(other.request.contains(&probe_endpoint), "{other:#?}");
    assert_eq!(other.status, Some(403));
    let message = serde_json::from_str::<serde_json::Value>(&other.body).unwrap()["Message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with(&format!(
            "User: anonymous is not authorized to perform: execute-api:Invoke on resource: \
             arn:aws:execute-api:us-east-1:{}:{}/prod/GET/widgets",
            d.producer.account_id,
            output(&d, "producer", "ApiId")
        )) && message.ends_with("with an explicit deny"),
        "{message}"
    );
    let wrong = &checks[5];
    assert_eq!(wrong.name, "producer refuses a wrong key");
    assert_eq!(
        (wrong.status, wrong.body.as_str()),
        (
            Some(403),
            r#"{"Message": "User is not authorized to access this resource with an explicit deny"}"#
        )
    );

    // The API key never reaches the state file or the event stream.
    let key = xwizard::aws::secrets::read(consumer, &output(&d, "consumer-vpc", "ApiKeySecretArn"))
        .await
        .unwrap();
    let state_text = std::fs::read_to_string(run.store.path(name)).unwrap();
    assert!(
        !state_text.contains(key.expose()),
        "the API key is in the state file"
    );
    assert!(
        !rec.json().contains(key.expose()),
        "the API key is in the events"
    );
    let secret_arn = output(&d, "consumer-vpc", "ApiKeySecretArn");

    // Cleanup leaves nothing of the run in either account.
    let rec2 = Recorder::default();
    let mut engine = engine_for(&run, d.clone(), &rec2);
    assert_eq!(
        engine.destroy().await.unwrap(),
        Outcome::Completed,
        "{}",
        rec2.json()
    );
    for (session, stack) in [
        (consumer, "consumer-vpc"),
        (producer, "producer"),
        (consumer, "consumer-api"),
    ] {
        assert!(
            !stack_exists(session, &format!("xw-{name}-{stack}")).await,
            "{stack} left"
        );
    }
    for role in Role::BOTH {
        let left = xwizard::aws::endpoints::Endpoints::new(run.sessions.of(role))
            .leftovers("xwizard:deployment", name)
            .await
            .unwrap();
        assert!(left.is_empty(), "{role} still has {left:?}");
    }
    assert!(
        !xwizard::aws::secrets::exists(consumer, &secret_arn)
            .await
            .unwrap(),
        "the API key secret is left"
    );
    let after = run.store.load(name).unwrap();
    assert!(
        after
            .steps
            .values()
            .all(|s| s.status == StepStatus::Destroyed),
        "{after:#?}"
    );
}

#[tokio::test]
async fn an_injected_failure_is_saved_with_its_cause_and_resume_finishes_the_run() {
    let sb = sandbox();
    let run = prepare(sb).await;
    let stack = format!("xw-{}-producer", run.deployment.name);
    let reason = "Injected: API Gateway limit reached";
    sb.control()
        .fail_resource("WidgetsFunction", reason, Some(&stack), FaultOn::Create)
        .await
        .unwrap();

    let rec = Recorder::default();
    let mut engine = engine_for(&run, run.deployment.clone(), &rec);
    assert_eq!(engine.run().await.unwrap(), Outcome::Failed);

    // What the user finds in `xwizard status`: which resource failed and why, what to do.
    let d = run.store.load(&run.deployment.name).unwrap();
    let step = d.step("producer");
    assert_eq!(step.status, StepStatus::Failed);
    let failure = step.failure.expect("the failure is saved");
    let cause = failure.root_cause.expect("the root cause is saved");
    assert_eq!(cause.logical_id, "WidgetsFunction");
    assert!(cause.reason.contains(reason), "{}", cause.reason);
    assert!(
        failure.next.contains(&format!("xwizard resume {}", d.name)),
        "{}",
        failure.next
    );
    assert_eq!(
        d.step("consumer-vpc").status,
        StepStatus::Done,
        "earlier steps stay done"
    );
    let shown = xwizard::ui::line::status(&d);
    assert!(
        shown.contains("WidgetsFunction") && shown.contains(reason),
        "{shown}"
    );

    // Resume: the rolled-back stack is deleted (after asking) and the run completes.
    let mut engine = engine_for(&run, d, &rec);
    assert_eq!(
        engine.run().await.unwrap(),
        Outcome::Completed,
        "{}",
        rec.json()
    );

    // A cleanup that cannot delete a resource (in AWS: an ENI still using the security
    // group, say) names it and why, says what is left, and keeps the rest deleted.
    let name = &run.deployment.name;
    let vpc_stack = format!("xw-{name}-consumer-vpc");
    let blocked = "resource sg-0f00 has a dependent object (Service: Ec2, Status Code: 400)";
    sb.control()
        .fail_resource(
            "EndpointSecurityGroup",
            blocked,
            Some(&vpc_stack),
            FaultOn::Delete,
        )
        .await
        .unwrap();
    let rec = Recorder::default();
    let mut engine = engine_for(&run, run.store.load(name).unwrap(), &rec);
    assert_eq!(engine.destroy().await.unwrap(), Outcome::Failed);
    let failed = rec
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::StepFailed {
                phase: Phase::Cleanup,
                root_cause,
                next,
                ..
            } => Some((root_cause, next)),
            _ => None,
        })
        .expect("the cleanup failure is reported");
    let cause = failed.0.expect("with the resource that would not go");
    assert_eq!(
        (cause.logical_id.as_str(), cause.status.as_str()),
        ("EndpointSecurityGroup", "DELETE_FAILED")
    );
    assert!(cause.reason.contains(blocked), "{}", cause.reason);
    assert!(
        failed
            .1
            .contains(&format!("`xwizard destroy {name}` again")),
        "{}",
        failed.1
    );
    let leftovers = rec
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::CleanupResult {
                leftovers, clean, ..
            } => Some((leftovers, clean)),
            _ => None,
        })
        .expect("the cleanup says what it found");
    assert!(!leftovers.1, "not clean");
    assert!(
        leftovers
            .0
            .contains(&format!("stack {vpc_stack} (DELETE_FAILED)")),
        "{leftovers:?}"
    );
    let d = run.store.load(name).unwrap();
    assert_eq!(d.step("producer").status, StepStatus::Destroyed);
    assert_eq!(d.step("consumer-api").status, StepStatus::Destroyed);
    assert_ne!(d.step("consumer-vpc").status, StepStatus::Destroyed);

    // Once it is unblocked, destroying again finishes the job.
    let rec = Recorder::default();
    let mut engine = engine_for(&run, d, &rec);
    assert_eq!(
        engine.destroy().await.unwrap(),
        Outcome::Completed,
        "{}",
        rec.json()
    );
    assert!(!stack_exists(&run.sessions.consumer, &vpc_stack).await);
}

#[tokio::test]
async fn a_stack_of_the_same_name_that_is_not_ours_is_never_touched() {
    let sb = sandbox();
    let run = prepare(sb).await;
    let name = format!("xw-{}-consumer-vpc", run.deployment.name);
    let cfn = aws_sdk_cloudformation::Client::new(&run.sessions.consumer.config);
    let body = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n";
    cfn.create_stack()
        .stack_name(&name)
        .template_body(body)
        .send()
        .await
        .unwrap();
    common::wait_for(
        "the foreign stack",
        std::time::Duration::from_secs(300),
        || async {
            let s = xwizard::aws::stacks::Stacks::new(&run.sessions.consumer)
                .describe(&name)
                .await
                .ok()??;
            (s.status == "CREATE_COMPLETE").then_some(())
        },
    )
    .await;

    let rec = Recorder::default();
    let mut engine = engine_for(&run, run.deployment.clone(), &rec);
    assert_eq!(engine.run().await.unwrap(), Outcome::Failed);
    let d = run.store.load(&run.deployment.name).unwrap();
    let failure = d.step("consumer-vpc").failure.unwrap();
    assert!(
        failure.message.contains("will not touch it"),
        "{}",
        failure.message
    );

    // Cleanup refuses it too, and it is still there afterwards.
    let mut engine = engine_for(&run, d, &rec);
    let err = engine.destroy().await.unwrap_err().to_string();
    assert!(err.contains("will not touch it"), "{err}");
    assert!(stack_exists(&run.sessions.consumer, &name).await);
}

#[tokio::test]
async fn stacks_deleted_behind_our_back_are_made_again_and_the_steps_using_them_follow() {
    let sb = sandbox();
    let (run, before, _) = deployed(sb).await;
    let consumer = &run.sessions.consumer;

    // Someone removes the consumer's stacks in the console; the producer's stays.
    common::deploy::delete_consumer_stacks_behind_its_back(&run, &before).await;

    // Resume makes them again, and every done step whose inputs changed runs again: the
    // targets, the producer's policy and the endpoint policy follow the new endpoint.
    let rec = Recorder::default();
    let outcome = engine_for(&run, before.clone(), &rec).run().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
    let after = run.store.load(&before.name).unwrap();
    let new_endpoint = output(&after, "consumer-vpc", "ConsumerVpcEndpointId");
    assert_ne!(
        new_endpoint,
        output(&before, "consumer-vpc", "ConsumerVpcEndpointId")
    );
    assert_eq!(
        admitted_endpoint(&run.sessions.producer, &after).await,
        new_endpoint
    );
    assert_targets_are_the_endpoint(consumer, &after).await;
    let said = rec.json();
    for step in ["register-targets", "producer", "scope-endpoint-policy"] {
        assert!(
            rec.events().iter().any(|e| matches!(e,
                Event::Info { step: s, message } if s == step && message.ends_with("since it ran: running it again"))),
            "{step} did not run again: {said}"
        );
    }
    let checks = checks_of(&rec);
    assert_eq!(checks.len(), 6, "{checks:#?}");
    assert!(checks.iter().all(|c| c.passed), "{checks:#?}");

    let rec = Recorder::default();
    let mut engine = engine_for(&run, after, &rec);
    assert_eq!(engine.destroy().await.unwrap(), Outcome::Completed);
}

#[tokio::test]
async fn an_opened_producer_policy_fails_the_check_that_another_endpoint_is_refused() {
    use aws_sdk_apigateway::types::{Op, PatchOperation};

    let sb = sandbox();
    let (run, d, _) = deployed(sb).await;

    // Someone opens the producer API to every caller, as one could in the console, and deploys
    // it again so that the policy applies.
    let apigw = aws_sdk_apigateway::Client::new(&run.sessions.producer.config);
    let api_id = output(&d, "producer", "ApiId");
    let opened = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
        }],
    });
    apigw
        .update_rest_api()
        .rest_api_id(&api_id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/policy")
                .value(opened.to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();
    apigw
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();

    // `xwizard test NAME --json` fails that check, says so and exits 2.
    let state_dir = run.store.dir().parent().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xwizard"))
        .arg("--state-dir")
        .arg(state_dir)
        .args(["test", &d.name, "--json"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    events.iter().for_each(common::schema::assert_valid_event);
    let checks: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "check").collect();
    assert_eq!(checks.len(), 6, "{stdout}");
    let (failed, passed): (Vec<_>, Vec<_>) = checks.into_iter().partition(|c| c["passed"] == false);
    assert_eq!(passed.len(), 5, "{stdout}");
    let opened_check = failed[0];
    assert_eq!(
        opened_check["name"],
        "producer refuses a call through another endpoint"
    );
    // What the user sees: the producer answered the widget through an endpoint it should refuse.
    assert_eq!(opened_check["status"], 200, "{opened_check}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(opened_check["body"].as_str().unwrap()).unwrap(),
        serde_json::json!({"id":"1","value":"4.99"})
    );
    assert!(
        opened_check["expected"]
            .as_str()
            .unwrap()
            .starts_with("403 from the producer's resource policy"),
        "{opened_check}"
    );
    let failure = events
        .iter()
        .find(|e| e["type"] == "step_failed")
        .unwrap_or_else(|| panic!("no step_failed: {stdout}"));
    assert_eq!(failure["message"], "1 of 6 test checks failed", "{failure}");
    assert!(
        failure["next"]
            .as_str()
            .unwrap()
            .contains(&format!("`xwizard test {}`", d.name)),
        "{failure}"
    );

    // The key is in neither stream.
    let key = xwizard::aws::secrets::read(
        &run.sessions.consumer,
        &output(&d, "consumer-vpc", "ApiKeySecretArn"),
    )
    .await
    .unwrap();
    assert!(!stdout.contains(key.expose()) && !stderr.contains(key.expose()));

    // A record whose consumer-vpc stack has no probe endpoint (made by an earlier xwizard) is
    // told what is missing and what makes it, before any call.
    let mut older = run.store.load(&d.name).unwrap();
    let outputs = &mut older.step_mut("consumer-vpc").outputs;
    outputs.remove("ProbeEndpointId");
    outputs.remove("ProbeEndpointDnsName");
    let rec = Recorder::default();
    let outcome = engine_for(&run, older, &rec).test_again().await.unwrap();
    assert_eq!(outcome, Outcome::Failed);
    let events = rec.events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Check { .. })),
        "{}",
        rec.json()
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::StepFailed { message, next, .. }
            if message.contains("no probe endpoint") && next.contains("xwizard destroy"))),
        "{}",
        rec.json()
    );

    let rec = Recorder::default();
    let mut engine = engine_for(&run, run.store.load(&d.name).unwrap(), &rec);
    assert_eq!(engine.destroy().await.unwrap(), Outcome::Completed);
}
