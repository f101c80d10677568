//! The sandbox behaves as AWS does, seen through the real SDK clients over HTTP, in two
//! accounts: what every later deployment test stands on.

mod common;

use aws_sdk_cloudformation::types::{ChangeSetType, StackEvent, StackStatus};
use aws_sdk_ec2::types::{Filter, VpcEndpointType};
use common::{sandbox, unique, wait_for};
use std::collections::BTreeSet;
use std::time::Duration;
use xwizard::aws::Session;
use xwizard::sandbox::FaultOn;

/// Generous for a loaded one-core machine: a correct run never waits for it.
const DEADLINE: Duration = Duration::from_secs(300);

fn vpc_template(subnets: usize) -> String {
    let mut resources = String::from(
        "  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.20.0.0/16\n",
    );
    for i in 0..subnets {
        resources.push_str(&format!(
            "  Subnet{i}:\n    Type: AWS::EC2::Subnet\n    Properties:\n      VpcId: !Ref Vpc\n      CidrBlock: 10.20.{i}.0/24\n"
        ));
    }
    resources.push_str(
        "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: test\n      VpcId: !Ref Vpc\n",
    );
    format!(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n{resources}Outputs:\n  VpcId:\n    Value: !Ref Vpc\n  SgId:\n    Value: !GetAtt Sg.GroupId\n"
    )
}

async fn stack_status(cfn: &aws_sdk_cloudformation::Client, name: &str) -> Option<StackStatus> {
    let out = cfn.describe_stacks().stack_name(name).send().await.ok()?;
    out.stacks().first()?.stack_status().cloned()
}

/// Sessions in the sandbox's two accounts: (producer, consumer).
async fn both_accounts() -> (Session, Session) {
    let sb = sandbox();
    (sb.session("producer").await, sb.session("consumer").await)
}

async fn stack_events(cfn: &aws_sdk_cloudformation::Client, name: &str) -> Vec<StackEvent> {
    let out = cfn
        .describe_stack_events()
        .stack_name(name)
        .send()
        .await
        .unwrap();
    out.stack_events().to_vec()
}

fn is_terminal(status: &StackStatus) -> bool {
    let s = status.as_str();
    !s.ends_with("_IN_PROGRESS")
}

#[tokio::test]
async fn change_set_executes_with_events_arriving_over_time() {
    let sb = sandbox();
    let consumer = sb.session("consumer").await;
    let cfn = aws_sdk_cloudformation::Client::new(&consumer.config);
    let name = unique("events");

    cfn.create_change_set()
        .stack_name(&name)
        .change_set_name("initial")
        .change_set_type(ChangeSetType::Create)
        .template_body(vpc_template(4))
        .send()
        .await
        .expect("create change set");
    wait_for("the change set to be ready", DEADLINE, || async {
        let cs = cfn
            .describe_change_set()
            .stack_name(&name)
            .change_set_name("initial")
            .send()
            .await
            .ok()?;
        (cs.status()?.as_str() == "CREATE_COMPLETE").then_some(())
    })
    .await;
    // Held before its first resource, the stack must be seen in progress with only its
    // start recorded; released, the rest of its events arrive: creation is asynchronous.
    sb.control().hold_stack(&name).await.unwrap();
    cfn.execute_change_set()
        .stack_name(&name)
        .change_set_name("initial")
        .send()
        .await
        .expect("execute");
    let while_held = wait_for("the held stack in progress", DEADLINE, || async {
        (stack_status(&cfn, &name).await? == StackStatus::CreateInProgress).then_some(())?;
        let events = stack_events(&cfn, &name).await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    let held_ids: BTreeSet<String> = while_held
        .iter()
        .filter_map(|e| e.event_id().map(str::to_string))
        .collect();
    sb.control().release_stack(&name).await.unwrap();
    let status = wait_for("the stack to settle", DEADLINE, || async {
        stack_status(&cfn, &name).await.filter(is_terminal)
    })
    .await;
    assert_eq!(status, StackStatus::CreateComplete);
    let seen: BTreeSet<String> = stack_events(&cfn, &name)
        .await
        .iter()
        .filter_map(|e| e.event_id().map(str::to_string))
        .collect();
    assert!(
        held_ids.is_subset(&seen) && seen.len() > held_ids.len(),
        "no events arrived after the first {} of the held stack: nothing arrived over time",
        held_ids.len()
    );
    let events = stack_events(&cfn, &name).await;
    let completed: BTreeSet<String> = events
        .iter()
        .filter(|e| e.resource_status().map(|s| s.as_str()) == Some("CREATE_COMPLETE"))
        .filter_map(|e| e.logical_resource_id().map(str::to_string))
        .collect();
    for id in ["Vpc", "Subnet0", "Subnet3", "Sg", name.as_str()] {
        assert!(
            completed.contains(id),
            "no CREATE_COMPLETE event for {id}: {completed:?}"
        );
    }
    let stack = cfn
        .describe_stacks()
        .stack_name(&name)
        .send()
        .await
        .unwrap();
    let outputs = stack.stacks()[0].outputs();
    let vpc_id = outputs
        .iter()
        .find(|o| o.output_key() == Some("VpcId"))
        .and_then(|o| o.output_value())
        .expect("VpcId output after the change set ran");
    let ec2 = aws_sdk_ec2::Client::new(&consumer.config);
    let vpcs = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .expect("the VPC exists");
    assert_eq!(vpcs.vpcs().len(), 1);
}

#[tokio::test]
async fn injected_failure_rolls_back_with_the_cause_visible() {
    let sb = sandbox();
    let consumer = sb.session("consumer").await;
    let cfn = aws_sdk_cloudformation::Client::new(&consumer.config);
    let name = unique("rollback");
    let reason = "Injected: the subnet quota is exhausted";
    sb.control()
        .fail_resource("Subnet1", reason, Some(&name), FaultOn::Create)
        .await
        .unwrap();

    cfn.create_stack()
        .stack_name(&name)
        .template_body(vpc_template(3))
        .send()
        .await
        .expect("create");
    let status = wait_for("the rollback to finish", DEADLINE, || async {
        stack_status(&cfn, &name).await.filter(is_terminal)
    })
    .await;
    assert_eq!(status, StackStatus::RollbackComplete);

    let events = stack_events(&cfn, &name).await;
    let failed = events
        .iter()
        .find(|e| e.resource_status().map(|s| s.as_str()) == Some("CREATE_FAILED"))
        .expect("a CREATE_FAILED event");
    assert_eq!(failed.logical_resource_id(), Some("Subnet1"));
    assert!(
        failed
            .resource_status_reason()
            .unwrap_or_default()
            .contains(reason),
        "the cause is not in the event: {:?}",
        failed.resource_status_reason()
    );
    // What was made before the failure was deleted again.
    let vpc_id = events
        .iter()
        .find(|e| {
            e.logical_resource_id() == Some("Vpc")
                && e.physical_resource_id()
                    .is_some_and(|p| p.starts_with("vpc-"))
        })
        .and_then(|e| e.physical_resource_id())
        .expect("the VPC was created before the failure")
        .to_string();
    let ec2 = aws_sdk_ec2::Client::new(&consumer.config);
    let left = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("vpc-id").values(&vpc_id).build())
        .send()
        .await
        .unwrap();
    assert!(left.vpcs().is_empty(), "the rollback left {vpc_id} behind");
}

#[tokio::test]
async fn secrets_are_readable_across_accounts_only_when_the_policies_allow() {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;

    let (producer, consumer) = both_accounts().await;
    let producer_id = producer.identify().await.unwrap().account_id;
    let kms = aws_sdk_kms::Client::new(&consumer.config);
    let key_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Producer", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{producer_id}:root")},
             "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}
        ]
    });
    let key = kms
        .create_key()
        .policy(key_policy.to_string())
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_string();

    let sm_consumer = aws_sdk_secretsmanager::Client::new(&consumer.config);
    // A secret of the consumer's, encrypted with the key: its ARN.
    let secret = |name: &str, value: &str| {
        let call = sm_consumer
            .create_secret()
            .name(unique(name))
            .kms_key_id(&key_id)
            .secret_string(value)
            .send();
        async move { call.await.unwrap().arn().unwrap().to_string() }
    };
    let shared_arn = secret("shared-key", "the-api-key-value-0123456789abcd").await;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{producer_id}:root")},
                       "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]
    });
    sm_consumer
        .put_resource_policy()
        .secret_id(&shared_arn)
        .resource_policy(policy.to_string())
        .send()
        .await
        .unwrap();

    let private_arn = secret("private-key", "not-for-the-producer").await;

    let sm_producer = aws_sdk_secretsmanager::Client::new(&producer.config);
    let read = sm_producer
        .get_secret_value()
        .secret_id(&shared_arn)
        .send()
        .await
        .expect("allowed read");
    assert_eq!(
        read.secret_string(),
        Some("the-api-key-value-0123456789abcd")
    );

    let denied = sm_producer
        .get_secret_value()
        .secret_id(private_arn)
        .send()
        .await
        .expect_err("a secret without a resource policy must not be readable from another account");
    assert_eq!(denied.code(), Some("AccessDeniedException"), "{denied:?}");
}

/// A VPC `10.<n>.0.0/16` with one subnet `10.<n>.1.0/24`: (vpc id, subnet id).
async fn vpc_with_subnet(ec2: &aws_sdk_ec2::Client, n: u8) -> (String, String) {
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{n}.0.0/16"))
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block(format!("10.{n}.1.0/24"))
        .send()
        .await
        .unwrap();
    (
        vpc_id,
        subnet.subnet().unwrap().subnet_id().unwrap().to_string(),
    )
}

#[tokio::test]
async fn pending_endpoint_connection_is_accepted_from_the_producer_account() {
    let (producer, consumer) = both_accounts().await;
    let consumer_id = consumer.identify().await.unwrap().account_id;
    let p_ec2 = aws_sdk_ec2::Client::new(&producer.config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&producer.config);

    // Producer: a network load balancer behind an endpoint service that requires acceptance.
    let (_, subnet_id) = vpc_with_subnet(&p_ec2, 30).await;
    let nlb = elb
        .create_load_balancer()
        .name(unique("nlb").chars().take(32).collect::<String>())
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
        .subnets(&subnet_id)
        .send()
        .await
        .unwrap();
    let nlb_arn = nlb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let service = p_ec2
        .create_vpc_endpoint_service_configuration()
        .network_load_balancer_arns(&nlb_arn)
        .acceptance_required(true)
        .send()
        .await
        .unwrap();
    let service = service.service_configuration().unwrap();
    let service_id = service.service_id().unwrap().to_string();
    let service_name = service.service_name().unwrap().to_string();
    p_ec2
        .modify_vpc_endpoint_service_permissions()
        .service_id(&service_id)
        .add_allowed_principals(format!("arn:aws:iam::{consumer_id}:root"))
        .send()
        .await
        .unwrap();

    // Consumer: an interface endpoint to it starts pending.
    let c_ec2 = aws_sdk_ec2::Client::new(&consumer.config);
    let (cvpc_id, csub_id) = vpc_with_subnet(&c_ec2, 31).await;
    let endpoint = c_ec2
        .create_vpc_endpoint()
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .vpc_id(&cvpc_id)
        .service_name(&service_name)
        .subnet_ids(&csub_id)
        .send()
        .await
        .expect("an allowed consumer can create the endpoint");
    let endpoint_id = endpoint
        .vpc_endpoint()
        .unwrap()
        .vpc_endpoint_id()
        .unwrap()
        .to_string();
    let endpoint_state = |c: aws_sdk_ec2::Client, id: String| async move {
        let out = c
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
            .unwrap();
        out.vpc_endpoints()[0]
            .state()
            .map(|s| s.as_str().to_string())
    };
    assert_eq!(
        endpoint_state(c_ec2.clone(), endpoint_id.clone())
            .await
            .as_deref(),
        Some("pendingAcceptance")
    );

    // Producer: sees who asks, accepts.
    let conns = p_ec2
        .describe_vpc_endpoint_connections()
        .filters(
            Filter::builder()
                .name("service-id")
                .values(&service_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let pending = conns
        .vpc_endpoint_connections()
        .iter()
        .find(|c| c.vpc_endpoint_id() == Some(endpoint_id.as_str()))
        .expect("the producer sees the consumer's connection");
    assert_eq!(pending.vpc_endpoint_owner(), Some(consumer_id.as_str()));
    assert_eq!(
        pending.vpc_endpoint_state().map(|s| s.as_str()),
        Some("pendingAcceptance")
    );
    let accepted = p_ec2
        .accept_vpc_endpoint_connections()
        .service_id(&service_id)
        .vpc_endpoint_ids(&endpoint_id)
        .send()
        .await
        .unwrap();
    assert!(
        accepted.unsuccessful().is_empty(),
        "{:?}",
        accepted.unsuccessful()
    );

    let state = wait_for("the endpoint to become available", DEADLINE, || {
        let (c, id) = (c_ec2.clone(), endpoint_id.clone());
        async move { endpoint_state(c, id).await.filter(|s| s == "available") }
    })
    .await;
    assert_eq!(state, "available");
}
