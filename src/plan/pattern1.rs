//! Pattern 1: cross-account private API via the consumer's VPC endpoint.
//! (The seed's `vpc-endpoint/`: ConsumerVpcStack, ProducerStack, ConsumerApiStack and the two
//! custom resources that became steps 2 and 4.)

/// A stack that made API Gateway's logging role keeps it; the API-key secret goes with the
/// consumer network stack.
pub const AFTERCARE: super::Aftercare = super::Aftercare {
    kept: &[super::KEPT_LOGGING_ROLE],
    secrets: &[("ApiKeySecretArn", Role::Consumer)],
    keys: &[],
    created_private_ca: None,
    validation_records: None,
};

/// The pattern screen's text: the costs are approximate us-east-1 prices.
pub const ABOUT: super::About = super::About {
    diagram: include_str!("../../assets/diagrams/pattern1.txt"),
    narrow_diagram: include_str!("../../assets/diagrams/pattern1-narrow.txt"),
    creates: "consumer: VPC over 2 AZs with a NAT gateway, execute-api endpoint (and a probe \
              endpoint the producer never admits, for the test), internal NLB, API-key secret \
              (KMS), regional API with a VPC link, Lambda · producer: private REST API with key \
              authorizer",
    cost: "NAT gateway ~$0.045/h · two interface endpoints ~$0.01/h per AZ each · NLB \
           ~$0.0225/h: ≈ $0.11/h while it exists, plus traffic (approx., us-east-1, see AWS \
           pricing); cleanup removes it all",
    needs: "two AWS profiles, one per account, allowed to use CloudFormation, IAM, EC2, ELB, \
            API Gateway, Lambda, Secrets Manager and KMS (`xwizard permissions` lists the \
            actions)",
};

use super::{RedeployStage, Role, Source, Step, StepKind, stack};

/// The `prod` stage of the API whose id is the stack's output `api_id_output`.
fn prod_stage(api_id_output: &'static str) -> Option<RedeployStage> {
    Some(RedeployStage {
        api_id_output,
        stage: "prod",
    })
}

const VPC: &str = "consumer-vpc";
const PRODUCER: &str = "producer";

fn vpc(key: &'static str) -> Source {
    Source::Output { step: VPC, key }
}

pub fn steps() -> Vec<Step> {
    vec![
        Step {
            id: VPC,
            title: "Consumer network, endpoint, API key and load balancer",
            after: &[],
            role: Role::Consumer,
            kind: stack(
                "consumer-vpc",
                template!("pattern1", "consumer-vpc.yaml"),
                vec![
                    ("DeploymentName", Source::DeploymentName),
                    ("ProducerAccountId", Source::AccountId(Role::Producer)),
                ],
                // Last: the other two stacks use its endpoint, secret and load balancer.
                1,
                None,
            ),
        },
        Step {
            id: "register-targets",
            title: "Register the endpoint's addresses as load balancer targets",
            after: &[],
            role: Role::Consumer,
            kind: StepKind::RegisterEndpointTargets {
                endpoint_id: vpc("ConsumerVpcEndpointId"),
                target_group_arn: vpc("ApiTargetGroupArn"),
            },
        },
        Step {
            id: PRODUCER,
            title: "Producer private API",
            after: &[],
            role: Role::Producer,
            kind: stack(
                "producer",
                template!("pattern1", "producer.yaml"),
                vec![
                    ("DeploymentName", Source::DeploymentName),
                    ("ConsumerAccountId", Source::AccountId(Role::Consumer)),
                    ("ConsumerVpcEndpointId", vpc("ConsumerVpcEndpointId")),
                    ("ApiKeySecretArn", vpc("ApiKeySecretArn")),
                    ("ApiKeyKmsKeyArn", vpc("ApiKeyKmsKeyArn")),
                ]
                .into_iter()
                .chain(super::logging_role_parameters())
                .collect(),
                0,
                prod_stage("ApiId"),
            ),
        },
        Step {
            id: "scope-endpoint-policy",
            title: "Scope the endpoint policy to the producer API",
            after: &[],
            role: Role::Consumer,
            kind: StepKind::ScopeEndpointPolicy {
                endpoint_id: vpc("ConsumerVpcEndpointId"),
                api_execute_arn: Source::Output {
                    step: PRODUCER,
                    key: "ApiExecuteArn",
                },
            },
        },
        Step {
            id: "consumer-api",
            title: "Consumer API, VPC link and consumer function",
            after: &[],
            role: Role::Consumer,
            kind: stack(
                "consumer-api",
                template!("pattern1", "consumer-api.yaml"),
                vec![
                    ("DeploymentName", Source::DeploymentName),
                    (
                        "ProducerApiId",
                        Source::Output {
                            step: PRODUCER,
                            key: "ApiId",
                        },
                    ),
                    (
                        "ProducerApiUrl",
                        Source::Output {
                            step: PRODUCER,
                            key: "ApiUrl",
                        },
                    ),
                    ("ApiKeySecretArn", vpc("ApiKeySecretArn")),
                    ("ApiKeyKmsKeyArn", vpc("ApiKeyKmsKeyArn")),
                    ("ConsumerNlbArn", vpc("ConsumerNlbArn")),
                    ("VpcId", vpc("VpcId")),
                    ("PrivateSubnetIds", vpc("PrivateSubnetIds")),
                    ("VpcCidr", vpc("VpcCidr")),
                ]
                .into_iter()
                .chain(super::logging_role_parameters())
                .collect(),
                0,
                prod_stage("ConsumerApiId"),
            ),
        },
        Step {
            id: "test",
            title: "Test calls: with the key, without it, with a wrong one",
            after: &[],
            role: Role::Consumer,
            kind: StepKind::TestCall {
                api_url: Source::Output {
                    step: "consumer-api",
                    key: "ConsumerApiEndpoint",
                },
                api_key_secret_arn: vpc("ApiKeySecretArn"),
                function_name: Source::Output {
                    step: "consumer-api",
                    key: "ConsumerFunctionName",
                },
                // Never named by the producer's policy nor scoped by the endpoint-policy step.
                probe_endpoint_id: vpc("ProbeEndpointId"),
                probe_endpoint_dns_name: vpc("ProbeEndpointDnsName"),
            },
        },
    ]
}
