//! Pattern 1 on AWS's bad days.
//!
//! Eventually consistent stack reads: every DescribeStacks and
//! DescribeStackEvents answers from before each change for a while, as AWS's can. Creation,
//! updates (a resume after the consumer's stacks were deleted behind its back) and cleanup
//! all finish, with nothing taken for "vanished" or "done" too early.
//!
//! Throttling: polls refused for their rate more often than the SDK retries a call do not
//! end a step.

mod common;

use common::deploy::{
    Recorder, delete_consumer_stacks_behind_its_back, engine_for, output, prepare, stack_exists,
};
use common::sandbox;
use xwizard::engine::{Event, Outcome};

/// Longer than a stack takes at the fast pace: every wait meets reads from before its call.
const LAG_MS: u64 = 1500;

#[tokio::test]
async fn a_deployment_its_update_and_its_cleanup_survive_lagging_reads() {
    let sb = sandbox();
    sb.control().stale_reads(LAG_MS).await.unwrap();
    let run = prepare(sb).await;

    let rec = Recorder::default();
    let outcome = engine_for(&run, run.deployment.clone(), &rec).run().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
    let checks: Vec<bool> = rec
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Check { check, .. } => Some(check.passed),
            _ => None,
        })
        .collect();
    assert_eq!(checks, [true; 6]);
    let before = run.store.load(&run.deployment.name).unwrap();

    // The consumer's stacks go behind xwizard's back; a resume makes them again and updates
    // the producer's stack for the new endpoint.
    let consumer = &run.sessions.consumer;
    sb.control().stale_reads(0).await.unwrap();
    delete_consumer_stacks_behind_its_back(&run, &before).await;
    sb.control().stale_reads(LAG_MS).await.unwrap();
    let rec = Recorder::default();
    let outcome = engine_for(&run, before.clone(), &rec).run().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
    let after = run.store.load(&before.name).unwrap();
    let (old_endpoint, new_endpoint) = (
        output(&before, "consumer-vpc", "ConsumerVpcEndpointId"),
        output(&after, "consumer-vpc", "ConsumerVpcEndpointId"),
    );
    assert_ne!(new_endpoint, old_endpoint);
    // The producer's review shows the API policy moving from the old endpoint to the new one.
    let api = rec
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::ChangeSet { step, changes, .. } if step == "producer" => {
                changes.into_iter().find(|c| c.logical_id == "Api")
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no change of the producer's API: {}", rec.json()));
    assert_eq!(api.action, "Modify");
    assert_eq!(api.replacement.as_deref(), Some("False"));
    let rows: Vec<String> = api.details.iter().map(|d| d.line()).collect();
    let deny = "Deny execute-api:Invoke ← * on execute-api:/* if aws:SourceVpce ≠";
    assert_eq!(
        rows,
        [
            format!("- {deny} {old_endpoint}"),
            format!("+ {deny} {new_endpoint}")
        ]
    );

    // Cleanup waits for each deletion through the lag, and finds nothing left.
    let rec = Recorder::default();
    let outcome = engine_for(&run, after, &rec).destroy().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
    for stack in ["consumer-vpc", "producer", "consumer-api"] {
        let name = format!("xw-{}-{stack}", before.name);
        let session = if stack == "producer" {
            &run.sessions.producer
        } else {
            consumer
        };
        sb.control().stale_reads(0).await.unwrap();
        assert!(!stack_exists(session, &name).await, "{name} is left");
    }
}

#[tokio::test]
async fn throttled_polls_never_end_a_step() {
    let sb = sandbox();
    let run = prepare(sb).await;
    // More refusals in a row than the SDK's retries of one call absorb.
    sb.control()
        .throttle("cloudformation", "DescribeStackEvents", 8)
        .await
        .unwrap();
    let rec = Recorder::default();
    let outcome = engine_for(&run, run.deployment.clone(), &rec).run().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
    let rec = Recorder::default();
    let d = run.store.load(&run.deployment.name).unwrap();
    let outcome = engine_for(&run, d, &rec).destroy().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
}
