//! The patterns as data: their steps, which account each step acts in, and how the outputs of
//! one step become the parameters of the next. The engine runs a plan; it knows no pattern.

/// A template embedded in the binary: (path under `assets/templates/`, text).
macro_rules! template {
    ($pattern:literal, $file:literal) => {
        (
            concat!($pattern, "/", $file),
            include_str!(concat!("../../assets/templates/", $pattern, "/", $file)),
        )
    };
}

pub mod pattern1;
pub mod pattern2;
pub mod permissions;
mod settings;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub use settings::{
    ACCEPT_CONNECTION, Choice, DELETE_PRIVATE_CA, KEY_FILES, KEY_STORE, Setting, SettingDefault,
    YES,
};

/// Everything a new deployment needs, however it was asked for (flags, preset, prompts or the
/// full screen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    pub pattern: Pattern,
    pub producer_profile: String,
    pub consumer_profile: String,
    pub region: String,
    pub name: String,
    pub allow_same_account: bool,
    /// The pattern's own answers, by setting key (`Pattern::settings`).
    pub settings: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// 1: the consumer reaches the producer's private API through its own VPC endpoint
    #[value(name = "vpc-endpoint", alias = "1")]
    VpcEndpoint,
    /// 2: the consumer reaches the producer's API over PrivateLink, with a client certificate
    #[value(name = "mtls-privatelink", alias = "2")]
    // Named as the command line and the event schema name it (not kebab-case's
    // "mtls-private-link").
    #[serde(rename = "mtls-privatelink")]
    MtlsPrivateLink,
}

impl Pattern {
    pub const ALL: &'static [Pattern] = &[Pattern::VpcEndpoint, Pattern::MtlsPrivateLink];

    pub fn number(self) -> u8 {
        match self {
            Pattern::VpcEndpoint => 1,
            Pattern::MtlsPrivateLink => 2,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pattern::VpcEndpoint => "Cross-account private API via a VPC endpoint",
            Pattern::MtlsPrivateLink => "Cross-account private API via mTLS and PrivateLink",
        }
    }

    /// Prefix of generated deployment names.
    pub fn short(self) -> &'static str {
        match self {
            Pattern::VpcEndpoint => "vpce",
            Pattern::MtlsPrivateLink => "mtls",
        }
    }

    pub fn steps(self) -> Vec<Step> {
        match self {
            Pattern::VpcEndpoint => pattern1::steps(),
            Pattern::MtlsPrivateLink => pattern2::steps(),
        }
    }

    /// What the pattern screen says of it.
    pub fn about(self) -> About {
        match self {
            Pattern::VpcEndpoint => pattern1::ABOUT,
            Pattern::MtlsPrivateLink => pattern2::ABOUT,
        }
    }

    /// What a cleanup looks at besides the stacks.
    pub fn aftercare(self) -> Aftercare {
        match self {
            Pattern::VpcEndpoint => pattern1::AFTERCARE,
            Pattern::MtlsPrivateLink => pattern2::AFTERCARE,
        }
    }

    /// The answers the pattern needs besides the common ones, in the order they are asked.
    pub fn settings(self) -> &'static [Setting] {
        match self {
            Pattern::VpcEndpoint => &[],
            Pattern::MtlsPrivateLink => pattern2::SETTINGS,
        }
    }
}

/// The outputs a cleanup reads once the stacks are gone.
#[derive(Debug, Clone, Copy)]
pub struct Aftercare {
    /// (output, why): what the stacks leave in place on purpose when deleted, named by an
    /// output, and why it stays.
    pub kept: &'static [(&'static str, &'static str)],
    /// (output, account): secrets that must be gone once the stacks are, and where they are.
    pub secrets: &'static [(&'static str, Role)],
    /// Key store entries (private keys) of the deployment, removed with it.
    pub keys: &'static [&'static str],
    /// The output naming an AWS Private CA the deployment bought: deleted only when the user
    /// asks (`--delete-private-ca`), listed as kept otherwise.
    pub created_private_ca: Option<&'static str>,
    /// (domain setting, host output): the certificate validation records CloudFormation
    /// leaves in the domain's zone for that host, removed once the stacks are gone.
    pub validation_records: Option<(&'static str, &'static str)>,
}

/// A pattern as the user chooses it: a picture, what it makes, what it costs, what it needs.
#[derive(Debug, Clone, Copy)]
pub struct About {
    /// At least 74 columns wide.
    pub diagram: &'static str,
    /// For narrower terminals (at most 56 columns).
    pub narrow_diagram: &'static str,
    pub creates: &'static str,
    pub cost: &'static str,
    pub needs: &'static str,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pattern {})", self.title(), self.number())
    }
}

/// The two accounts of a deployment.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Producer,
    Consumer,
}

impl Role {
    pub const BOTH: [Role; 2] = [Role::Producer, Role::Consumer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Consumer => "consumer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    DeploymentName,
    AccountId(Role),
    /// The CloudWatch role API Gateway already logs with in the step's account and region,
    /// or empty when the stack must make one (none set, or the one set no longer exists).
    /// Looked up when the stack is first made, then kept: an update must not flip it.
    ApiGatewayLoggingRole,
    /// The role the wizard made for the stack to set, when the account has no working one;
    /// empty otherwise. Decided with `ApiGatewayLoggingRole`, and kept the same way.
    ApiGatewayLoggingRoleToSet,
    /// An output of an earlier step.
    Output {
        step: &'static str,
        key: &'static str,
    },
    /// One of the pattern's own answers (`Pattern::settings`), by key.
    Setting(&'static str),
    /// The id of the public Route 53 hosted zone of the domain named by a setting, looked up
    /// in the step's account when the stack is first made.
    HostedZoneOf(&'static str),
    /// The `index`th Availability Zone (in the step's account's names) that the endpoint
    /// service named by an output is offered in; empty when it is offered in fewer.
    ServiceZone {
        step: &'static str,
        key: &'static str,
        index: usize,
    },
}

impl Source {
    /// Looked up in AWS when a stack is made, rather than read from the record.
    pub fn is_lookup(&self) -> bool {
        matches!(
            self,
            Source::ApiGatewayLoggingRole
                | Source::ApiGatewayLoggingRoleToSet
                | Source::HostedZoneOf(_)
                | Source::ServiceZone { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub struct StackSpec {
    /// Appended to the deployment name: stack `xw-<deployment>-<suffix>`.
    pub suffix: &'static str,
    /// Path under `assets/templates/`.
    pub template_path: &'static str,
    pub template_body: &'static str,
    pub parameters: Vec<(&'static str, Source)>,
    /// Cleanup deletes wave 0 first (its stacks together), then wave 1, and so on.
    pub teardown_wave: u8,
    /// The REST API stage this stack serves, deployed again whenever the stack already
    /// existed: API Gateway applies a changed resource policy, method or integration only
    /// through a new deployment, which CloudFormation does not make on an update.
    pub redeploys: Option<RedeployStage>,
}

impl StackSpec {
    /// Whether the stack has a Lambda function in a VPC: deleting it waits for Lambda to
    /// release the function's network interfaces, which takes AWS 25 to 40 minutes.
    pub fn deletes_slowly(&self) -> bool {
        self.template_body.contains("VpcConfig:")
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RedeployStage {
    /// The stack output holding the REST API's id.
    pub api_id_output: &'static str,
    pub stage: &'static str,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Stack(StackSpec),
    /// Register the interface endpoint's ENI private IPs as the target group's targets.
    RegisterEndpointTargets {
        endpoint_id: Source,
        target_group_arn: Source,
    },
    /// Allow only `execute-api:Invoke` on the producer API through the endpoint.
    ScopeEndpointPolicy {
        endpoint_id: Source,
        api_execute_arn: Source,
    },
    /// The built-in test calls: the API with the key, without it, with a wrong one, and the
    /// consumer function; then the producer's own refusals, shown through the consumer
    /// function: a call through `probe_endpoint_id` (an endpoint the producer's policy does not
    /// name, reached by its DNS name `probe_endpoint_dns_name`) and a call with a wrong key.
    TestCall {
        api_url: Source,
        api_key_secret_arn: Source,
        function_name: Source,
        probe_endpoint_id: Source,
        probe_endpoint_dns_name: Source,
    },
    /// Make or adopt the certificate authority that signs client certificates, as the
    /// settings `ca` (and `ca_arn`, or `ca_certificate_file` and `ca_key_file`) choose. Gives
    /// `CaKind`, `CaCertificate` (PEM) and, for an AWS Private CA, `CaArn`.
    CertificateAuthority {
        choice: Source,
    },
    /// Put the CA certificate into the (versioned) trust-bundle bucket the trust store reads.
    /// Gives `TrustBundleKey` and `TrustBundleVersion`.
    UploadTrustBundle {
        bucket: Source,
        ca_certificate: Source,
    },
    /// Start the endpoint service's private DNS name verification and wait for `verified`.
    VerifyPrivateDns {
        service_id: Source,
    },
    /// Find the consumer endpoint's `pendingAcceptance` connection to the service, ask the
    /// user, then accept (and wait for `available`) or reject it, or leave it for later.
    AcceptConnection {
        service_id: Source,
        endpoint_id: Source,
    },
    /// The mTLS test from the consumer's instance through SSM Run Command: the instance makes
    /// its key and CSR, the CA signs it, and the instance calls `https://<host>/widgets`
    /// with and without its certificate, with one from another CA, and without the API key.
    MtlsTest {
        instance_id: Source,
        host: Source,
        api_key_secret_arn: Source,
        ca_kind: Source,
        checks: &'static [MtlsCheck],
    },
}

/// One call of the mTLS test, made from the consumer's instance.
#[derive(Debug, Clone, Copy)]
pub struct MtlsCheck {
    /// Short and shell-safe: names the call's files on the instance.
    pub id: &'static str,
    pub name: &'static str,
    pub certificate: ClientCertificate,
    /// Whether the call sends the API key (read by the instance with its own role).
    pub api_key: bool,
    pub expect: MtlsExpect,
}

/// The client certificate a check presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCertificate {
    /// Signed by the deployment's CA for the instance's own key.
    Trusted,
    /// Signed, for the same key, by a CA the trust store does not hold.
    OtherCa,
    None,
}

/// What a check must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtlsExpect {
    /// 200 and the widget.
    Widget,
    /// The load balancer ends the TLS handshake: no HTTP answer at all.
    HandshakeRefused,
    /// An HTTP refusal from the API's authorizer (401 or 403).
    Refused,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: &'static str,
    pub title: &'static str,
    /// Whose credentials the step runs with.
    pub role: Role,
    pub kind: StepKind,
    /// Steps that must be done first though the step takes none of their outputs (e.g. a
    /// consumer endpoint with private DNS needs the producer's name verified).
    pub after: &'static [&'static str],
}

impl Step {
    pub fn stack(&self) -> Option<&StackSpec> {
        match &self.kind {
            StepKind::Stack(spec) => Some(spec),
            _ => None,
        }
    }

    /// The built-in test of the pattern, which `xwizard test` runs again.
    pub fn is_test(&self) -> bool {
        matches!(
            self.kind,
            StepKind::TestCall { .. } | StepKind::MtlsTest { .. }
        )
    }

    /// The steps that must be done before this one starts: those whose outputs it takes, the
    /// ones it names in `after`, and, for the test, every step before it (it tests the
    /// whole). Steps needing nothing of each other run side by side.
    pub fn needs(&self, plan: &[Step]) -> Vec<&'static str> {
        if self.is_test() {
            return plan
                .iter()
                .take_while(|s| s.id != self.id)
                .map(|s| s.id)
                .collect();
        }
        let mut needs: Vec<&'static str> = self.after.to_vec();
        for (_, source) in self.inputs() {
            let from = match source {
                Source::Output { step, .. } | Source::ServiceZone { step, .. } => step,
                _ => continue,
            };
            if !needs.contains(from) {
                needs.push(from);
            }
        }
        needs
    }

    /// Every value the step takes, by name: a stack's parameters, an SDK step's inputs.
    pub fn inputs(&self) -> Vec<(&'static str, &Source)> {
        match &self.kind {
            StepKind::Stack(spec) => spec.parameters.iter().map(|(k, s)| (*k, s)).collect(),
            StepKind::RegisterEndpointTargets {
                endpoint_id,
                target_group_arn,
            } => vec![
                ("endpoint_id", endpoint_id),
                ("target_group_arn", target_group_arn),
            ],
            StepKind::ScopeEndpointPolicy {
                endpoint_id,
                api_execute_arn,
            } => vec![
                ("endpoint_id", endpoint_id),
                ("api_execute_arn", api_execute_arn),
            ],
            StepKind::TestCall {
                api_url,
                api_key_secret_arn,
                function_name,
                probe_endpoint_id,
                probe_endpoint_dns_name,
            } => vec![
                ("api_url", api_url),
                ("api_key_secret_arn", api_key_secret_arn),
                ("function_name", function_name),
                ("probe_endpoint_id", probe_endpoint_id),
                ("probe_endpoint_dns_name", probe_endpoint_dns_name),
            ],
            StepKind::CertificateAuthority { choice } => vec![("ca", choice)],
            StepKind::UploadTrustBundle {
                bucket,
                ca_certificate,
            } => vec![("bucket", bucket), ("ca_certificate", ca_certificate)],
            StepKind::VerifyPrivateDns { service_id } => vec![("service_id", service_id)],
            StepKind::AcceptConnection {
                service_id,
                endpoint_id,
            } => vec![("service_id", service_id), ("endpoint_id", endpoint_id)],
            StepKind::MtlsTest {
                instance_id,
                host,
                api_key_secret_arn,
                ca_kind,
                ..
            } => vec![
                ("instance_id", instance_id),
                ("host", host),
                ("api_key_secret_arn", api_key_secret_arn),
                ("ca_kind", ca_kind),
            ],
        }
    }

    /// The outputs an SDK step gives (a stack's come from its template).
    pub fn sdk_outputs(&self) -> &'static [&'static str] {
        match self.kind {
            StepKind::RegisterEndpointTargets { .. } => &["TargetIps"],
            StepKind::CertificateAuthority { .. } => &[
                "CaKind",
                "CaCertificate",
                "CaArn",
                "CreatedCaArn",
                "ClientCertificate",
            ],
            StepKind::UploadTrustBundle { .. } => &["TrustBundleKey", "TrustBundleVersion"],
            _ => &[],
        }
    }
}

/// The parameters of a template that sets API Gateway's CloudWatch logging role where the
/// account has none (both patterns' API stacks), and what a cleanup then keeps of it.
fn logging_role_parameters() -> [(&'static str, Source); 2] {
    [
        (
            "ExistingApiGatewayLoggingRoleArn",
            Source::ApiGatewayLoggingRole,
        ),
        (
            "ApiGatewayLoggingRoleToSet",
            Source::ApiGatewayLoggingRoleToSet,
        ),
    ]
}

/// (output, why) of the logging role such a stack made: kept when the stack goes.
const KEPT_LOGGING_ROLE: (&str, &str) = (
    "ApiGatewayLoggingRoleArn",
    "API Gateway's CloudWatch logging role: every REST API of its account and region logs \
     through it; delete it only after pointing API Gateway's account settings at another role",
);

/// A stack step of the template `(path, body)` (from `template!`).
fn stack(
    suffix: &'static str,
    (template_path, template_body): (&'static str, &'static str),
    parameters: Vec<(&'static str, Source)>,
    teardown_wave: u8,
    redeploys: Option<RedeployStage>,
) -> StepKind {
    StepKind::Stack(StackSpec {
        suffix,
        template_path,
        template_body,
        parameters,
        teardown_wave,
        redeploys,
    })
}

/// The CloudFormation stack name of a stack step in a deployment.
pub fn stack_name(deployment: &str, spec: &StackSpec) -> String {
    format!("xw-{deployment}-{}", spec.suffix)
}

/// Tag carried by every stack of a deployment; xwizard touches no stack without it.
pub const DEPLOYMENT_TAG: &str = "xwizard:deployment";

/// Every template embedded in the binary, by path under `assets/templates/`.
pub fn templates() -> Vec<(&'static str, &'static str)> {
    Pattern::ALL
        .iter()
        .flat_map(|p| p.steps())
        .filter_map(|s| {
            s.stack()
                .map(|spec| (spec.template_path, spec.template_body))
        })
        .collect()
}

/// Deployment names become part of stack, function and bucket names: keep them short and
/// DNS-safe.
pub fn validate_deployment_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.len() < 3 || name.len() > 20 {
        return Err(format!(
            "deployment name '{name}' must be 3 to 20 characters long"
        ));
    }
    if !ok_chars || !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.ends_with('-') {
        return Err(format!(
            "deployment name '{name}' may hold only lowercase letters, digits and '-', \
             must start with a letter and not end with '-' (e.g. vpce-demo1)"
        ));
    }
    // It starts the load balancer's name, which Elastic Load Balancing refuses with this prefix.
    if let Some(rest) = name.strip_prefix("internal-") {
        return Err(format!(
            "deployment name '{name}' may not start with 'internal-' (load balancer names \
             cannot); e.g. int-{rest}"
        ));
    }
    Ok(())
}

/// A region name as AWS spells them: `us-east-1`, `eu-central-2`, `us-gov-west-1`,
/// `ap-southeast-5`. A typo caught here saves an STS call to a host that does not exist.
pub fn validate_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
    if !well_formed {
        return Err(format!(
            "'{region}' is not a region name like eu-west-2 (lowercase, ending in a number)"
        ));
    }
    // Every AWS region starts with one of these areas and names a direction from it (after
    // an optional partition word such as `gov` or `iso`). A made-up one (`zz-moon-1`) is
    // caught here instead of as an unanswered call.
    const AREAS: &[&str] = &["af", "ap", "ca", "cn", "eu", "il", "me", "mx", "sa", "us"];
    const DIRECTIONS: &[&str] = &[
        "central",
        "east",
        "west",
        "north",
        "south",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let direction = parts[parts.len() - 2];
    let partition_words = &parts[1..parts.len() - 2];
    if !AREAS.contains(&parts[0])
        || !DIRECTIONS.contains(&direction)
        || partition_words
            .iter()
            .any(|w| !matches!(*w, "gov" | "iso" | "isob" | "isoe" | "isof"))
    {
        return Err(format!(
            "'{region}' is not an AWS region (regions look like us-east-1, eu-central-2, \
             us-gov-west-1); `aws ec2 describe-regions` lists the ones your account has"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_written_as_the_command_line_names_it() {
        for pattern in Pattern::ALL {
            let json = serde_json::to_value(pattern).unwrap();
            let flag = clap::ValueEnum::to_possible_value(pattern).expect("a named value");
            assert_eq!(json, flag.get_name());
        }
    }

    #[test]
    fn pattern_1_runs_the_targets_beside_the_producer_and_the_policy_beside_the_consumer_api() {
        let plan = Pattern::VpcEndpoint.steps();
        let needs = |id: &str| {
            let step = plan
                .iter()
                .find(|s| s.id == id)
                .expect("a step of the plan");
            let mut needs = step.needs(&plan);
            needs.sort_unstable();
            needs
        };
        assert!(needs("consumer-vpc").is_empty());
        assert_eq!(needs("register-targets"), ["consumer-vpc"]);
        assert_eq!(needs("producer"), ["consumer-vpc"]);
        assert_eq!(needs("scope-endpoint-policy"), ["consumer-vpc", "producer"]);
        assert_eq!(needs("consumer-api"), ["consumer-vpc", "producer"]);
        assert_eq!(
            needs("test").len(),
            plan.len() - 1,
            "the test waits for all"
        );
        // Every step needs only steps before it: the plan's order is one the graph allows.
        for (i, step) in plan.iter().enumerate() {
            for need in step.needs(&plan) {
                assert!(
                    plan[..i].iter().any(|s| s.id == need),
                    "{} needs {need}",
                    step.id
                );
            }
        }
    }

    #[test]
    fn region_names_are_checked() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-5",
            "cn-northwest-1",
            "mx-central-1",
            "il-central-1",
            "us-isob-east-1",
        ] {
            assert!(validate_region(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "us-east",
            "useast1",
            "US-EAST-1",
            "us-east-1a",
            "us--1",
            "eu-west-2 ",
            "moon-base-x",
            "usa-east-1",
            "zz-moon-1",
            "us-moon-1",
            "eu-x-west-1",
        ] {
            assert!(validate_region(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn deployment_names_are_checked() {
        for good in ["vpce-ab12", "internals", "int-x", "abc"] {
            assert!(validate_deployment_name(good).is_ok(), "{good} refused");
        }
        for bad in [
            "internal-x",
            "",
            "ab",
            "Vpce",
            "1abc",
            "abc-",
            "a_b_c",
            "abcdefghijklmnopqrstu",
        ] {
            assert!(validate_deployment_name(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn every_output_a_step_needs_comes_from_an_earlier_step() {
        for pattern in Pattern::ALL {
            let steps = pattern.steps();
            for (i, step) in steps.iter().enumerate() {
                let sources = step.inputs().into_iter().map(|(_, s)| s);
                for source in sources {
                    if let Source::Output { step: from, key } = source {
                        let earlier =
                            steps[..i]
                                .iter()
                                .find(|s| s.id == *from)
                                .unwrap_or_else(|| {
                                    panic!("{}: {from} is not an earlier step", step.id)
                                });
                        match earlier.stack() {
                            Some(spec) => assert!(
                                spec.template_body.contains(&format!("\n  {key}:")),
                                "{}: template {} has no output {key}",
                                step.id,
                                spec.template_path
                            ),
                            None => assert!(
                                earlier.sdk_outputs().contains(key),
                                "{}: step {from} gives no output {key}",
                                step.id
                            ),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_stack_parameter_is_declared_by_its_template() {
        for pattern in Pattern::ALL {
            for step in pattern.steps() {
                let Some(spec) = step.stack() else { continue };
                for (name, _) in &spec.parameters {
                    assert!(
                        spec.template_body.contains(&format!("\n  {name}:")),
                        "{} has no parameter {name}",
                        spec.template_path
                    );
                }
            }
        }
    }
}
