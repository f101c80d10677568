//! API Gateway's CloudWatch logging role is one setting per account and region. A deployment
//! leaves a working setting alone, makes and sets one where there is none or where the one set
//! is gone, and cleanup keeps the role it made. Its own test binary: the setting is shared by
//! everything in an account, so no other deployment may run beside these.

mod common;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use common::deploy::{Recorder, Run, engine_for, output, prepare};
use common::sandbox;
use xwizard::aws::Session;
use xwizard::engine::{Event, KeptItem, Outcome};
use xwizard::state::Deployment;

const TRUST_APIGATEWAY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const PUSH_TO_LOGS: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

async fn logging_role(session: &Session) -> Option<String> {
    aws_sdk_apigateway::Client::new(&session.config)
        .get_account()
        .send()
        .await
        .unwrap()
        .cloudwatch_role_arn()
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

async fn role_exists(session: &Session, arn: &str) -> bool {
    let name = arn.rsplit('/').next().unwrap();
    aws_sdk_iam::Client::new(&session.config)
        .get_role()
        .role_name(name)
        .send()
        .await
        .is_ok()
}

/// What an admin of the account would have done before: a role of their own, set for API
/// Gateway.
async fn set_own_logging_role(session: &Session, name: &str) -> String {
    let iam = aws_sdk_iam::Client::new(&session.config);
    let role = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST_APIGATEWAY)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(PUSH_TO_LOGS)
        .send()
        .await
        .unwrap();
    let arn = role.role().unwrap().arn().to_string();
    aws_sdk_apigateway::Client::new(&session.config)
        .update_account()
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/cloudwatchRoleArn")
                .value(&arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    arn
}

async fn delete_role(session: &Session, arn: &str) {
    let iam = aws_sdk_iam::Client::new(&session.config);
    let name = arn.rsplit('/').next().unwrap();
    for policy in iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .unwrap()
        .attached_policies()
    {
        iam.detach_role_policy()
            .role_name(name)
            .policy_arn(policy.policy_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    iam.delete_role().role_name(name).send().await.unwrap();
}

async fn deploy(run: &Run, deployment: Deployment) -> (Deployment, Vec<String>) {
    let rec = Recorder::default();
    let outcome = engine_for(run, deployment.clone(), &rec)
        .run()
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Completed, "{}", rec.json());
    (run.store.load(&deployment.name).unwrap(), infos(&rec))
}

/// What a cleanup said, and what it found at its end: (kept items, clean).
async fn destroy(run: &Run, deployment: Deployment) -> (Vec<String>, (Vec<KeptItem>, bool)) {
    let rec = Recorder::default();
    let outcome = engine_for(run, deployment, &rec).destroy().await.unwrap();
    assert_eq!(outcome, Outcome::Completed, "{}", rec.json());
    let result = rec
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::CleanupResult { kept, clean, .. } => Some((kept, clean)),
            _ => None,
        })
        .expect("a cleanup ends with what it found");
    (infos(&rec), result)
}

fn infos(rec: &Recorder) -> Vec<String> {
    rec.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Info { message, .. } => Some(message),
            _ => None,
        })
        .collect()
}

fn said(infos: &[String], needle: &str) -> bool {
    infos.iter().any(|m| m.contains(needle))
}

#[tokio::test]
async fn a_working_setting_is_left_alone_a_missing_or_broken_one_is_made_and_kept() {
    let sb = sandbox();
    let run = prepare(sb).await;
    let (producer, consumer) = (&run.sessions.producer, &run.sessions.consumer);
    assert_eq!(logging_role(consumer).await, None, "a fresh account");
    let admins = set_own_logging_role(producer, "admins-apigateway-logs").await;
    // The role made for the consumer is refused once, as IAM's propagation delay makes AWS
    // refuse a role that new: the stack is made again, and the run carries on.
    sb.control().role_not_ready(1).await.unwrap();

    // First deployment: the producer's own role stays; the consumer gets one made for it.
    let (d, said_during) = deploy(&run, run.deployment.clone()).await;
    assert!(
        said(&said_during, "IAM had not yet made it usable")
            && said(&said_during, "attempt 2 of 3"),
        "{said_during:#?}"
    );
    assert_eq!(logging_role(producer).await.as_deref(), Some(&*admins));
    assert!(
        !d.step("producer")
            .outputs
            .contains_key("ApiGatewayLoggingRoleArn"),
        "the producer stack made a logging role although the account had one"
    );
    assert!(said(
        &said_during,
        &format!("already logs through {admins}")
    ));
    let made = output(&d, "consumer-api", "ApiGatewayLoggingRoleArn");
    assert_eq!(logging_role(consumer).await.as_deref(), Some(&*made));
    assert!(said(&said_during, "has no CloudWatch logging role"));

    // Cleanup deletes the stacks but keeps the role every API of the account now logs with,
    // and says so.
    let (said_after, result) = destroy(&run, d).await;
    assert!(
        role_exists(consumer, &made).await,
        "the made role was deleted"
    );
    assert_eq!(logging_role(consumer).await.as_deref(), Some(&*made));
    assert!(role_exists(producer, &admins).await);
    assert_eq!(logging_role(producer).await.as_deref(), Some(&*admins));
    let (kept, clean) = result;
    assert!(clean, "{said_after:?}");
    assert!(
        kept.iter().any(|k| k.what.starts_with(&made)
            && k.why
                .contains("every REST API of its account and region logs through it")),
        "{kept:?}"
    );

    // Someone deletes that role: the setting now names nothing, so the next deployment makes
    // a new role rather than log into the void.
    delete_role(consumer, &made).await;
    let mut second = run.deployment.clone();
    second.name = format!("{}b", &second.name[..second.name.len().min(19)]);
    let (d2, said_during) = deploy(&run, second).await;
    assert!(said(
        &said_during,
        &format!("logs through {made}, which no longer exists")
    ));
    let remade = output(&d2, "consumer-api", "ApiGatewayLoggingRoleArn");
    assert_ne!(remade, made);
    assert_eq!(logging_role(consumer).await.as_deref(), Some(&*remade));
    assert!(role_exists(consumer, &remade).await);
    destroy(&run, d2).await;
}
