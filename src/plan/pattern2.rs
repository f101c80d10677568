//! Pattern 2: cross-account private API via mTLS and PrivateLink.
//! (The seed's `alb-mtls/`: ProducerStack, split in two templates, ConsumerStack, and what the
//! seed left to the person or hid in custom resources: the CA, the trust bundle's upload, the
//! targets, private DNS, accepting the connection and the curl, each a step here.)

use super::settings::{Choice, Setting, SettingDefault, any};
use super::{ClientCertificate, MtlsCheck, MtlsExpect, Role, Source, Step, StepKind, stack};

/// The test's calls: the four, in the order a reader checks them.
pub const MTLS_CHECKS: &[MtlsCheck] = &[
    MtlsCheck {
        id: "with-cert",
        name: "with the client certificate and the API key",
        certificate: ClientCertificate::Trusted,
        api_key: true,
        expect: MtlsExpect::Widget,
    },
    MtlsCheck {
        id: "no-cert",
        name: "without a client certificate",
        certificate: ClientCertificate::None,
        api_key: true,
        expect: MtlsExpect::HandshakeRefused,
    },
    MtlsCheck {
        id: "other-ca",
        name: "with a certificate from another CA",
        certificate: ClientCertificate::OtherCa,
        api_key: true,
        expect: MtlsExpect::HandshakeRefused,
    },
    MtlsCheck {
        id: "no-key",
        name: "without the API key",
        certificate: ClientCertificate::Trusted,
        api_key: false,
        expect: MtlsExpect::Refused,
    },
];

/// What a cleanup keeps, and the secret that must be gone with the producer's stacks.
pub const AFTERCARE: super::Aftercare = super::Aftercare {
    kept: &[super::KEPT_LOGGING_ROLE],
    secrets: &[("ApiKeySecretArn", Role::Producer)],
    keys: &[CA_KEY_ENTRY, CLIENT_KEY_ENTRY],
    created_private_ca: Some("CreatedCaArn"),
    validation_records: Some(("domain", "ServiceHost")),
};

/// The key store's entries: the CA's private key (local or brought) and the user's own
/// client key (`xwizard cert`).
pub const CA_KEY_ENTRY: &str = "ca-key";
pub const CLIENT_KEY_ENTRY: &str = "client-key";

/// The pattern screen's text: the costs are approximate us-east-1 prices.
pub const ABOUT: super::About = super::About {
    diagram: include_str!("../../assets/diagrams/pattern2.txt"),
    narrow_diagram: include_str!("../../assets/diagrams/pattern2-narrow.txt"),
    creates: "producer: VPC, private REST API with key authorizer and private custom domain, \
              execute-api endpoint, internal ALB verifying client certificates (trust store \
              from a versioned S3 bundle), NLB, endpoint service (acceptance required), API-key \
              secret (KMS) · consumer: VPC, interface endpoint with private DNS, SSM endpoints, \
              t3.micro instance managed by SSM · a certificate authority of your choice",
    cost: "ALB ~$0.0225/h · NLB ~$0.0225/h · interface endpoints ~$0.01/h per AZ each (6 × 2 \
           AZs) · t3.micro ~$0.0104/h: ≈ $0.18/h while it exists, plus traffic; an AWS Private \
           CA adds $400/month (short-lived mode $50/month) until deleted (approx., us-east-1, \
           see AWS pricing); cleanup removes it all",
    needs: "two AWS profiles, one per account, allowed to use CloudFormation, IAM, EC2, ELB, \
            API Gateway, Lambda, Secrets Manager, KMS, S3, Route 53, ACM, SSM (and ACM PCA for \
            a Private CA); a domain with a public Route 53 hosted zone in the producer account",
};

/// Local CA: made by xwizard, its key in the OS keyring.
pub const CA_LOCAL: &str = "local";
/// A new AWS Private CA, general-purpose mode.
pub const CA_PRIVATE: &str = "private-ca";
/// A new AWS Private CA, short-lived certificate mode.
pub const CA_PRIVATE_SHORT_LIVED: &str = "private-ca-short-lived";
/// An AWS Private CA that exists, by ARN.
pub const CA_EXISTING: &str = "existing-private-ca";
/// A CA certificate and key the user brings as PEM files.
pub const CA_BRING: &str = "bring-your-own";

pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "domain",
        question: "Domain name (its public Route 53 hosted zone is in the producer account)?",
        help: "the service is named <subdomain>.<domain>; its certificate and private DNS name \
               are validated in that zone (the sandbox's is xwizard.test)",
        default: SettingDefault::None,
        choices: &[],
        when: None,
        validate: validate_domain,
    },
    Setting {
        key: "subdomain",
        question: "Subdomain the service answers on?",
        help: "one DNS label; the deployment's name unless you choose another",
        default: SettingDefault::DeploymentName,
        choices: &[],
        when: None,
        validate: validate_label,
    },
    Setting {
        key: "ca",
        question: "Which certificate authority signs the client certificates?",
        help: "the ALB trusts only certificates it signed",
        default: SettingDefault::Fixed(CA_LOCAL),
        choices: &[
            Choice {
                value: CA_LOCAL,
                label: "a local CA made by xwizard, its key in your OS keyring (free; not for \
                        production)",
                confirm: None,
            },
            Choice {
                value: CA_PRIVATE,
                label: "a new AWS Private CA, general-purpose ($400 a month until deleted)",
                confirm: Some(
                    "An AWS Private CA in general-purpose mode costs $400 for every month it \
                     exists (pro-rated), until it is deleted, plus $0.75 per certificate. \
                     Create one?",
                ),
            },
            Choice {
                value: CA_PRIVATE_SHORT_LIVED,
                label: "a new AWS Private CA, short-lived certificates ($50 a month until \
                        deleted)",
                confirm: Some(
                    "An AWS Private CA in short-lived certificate mode costs $50 for every \
                     month it exists (pro-rated), until it is deleted, plus $0.058 per \
                     certificate. Create one?",
                ),
            },
            Choice {
                value: CA_EXISTING,
                label: "an AWS Private CA you have (by ARN, in either account)",
                confirm: None,
            },
            Choice {
                value: CA_BRING,
                label: "a CA certificate and key you bring (PEM files)",
                confirm: None,
            },
        ],
        when: None,
        validate: any,
    },
    Setting {
        key: "ca_arn",
        question: "ARN of the Private CA?",
        help: "ACTIVE, in the producer's or the consumer's account",
        default: SettingDefault::None,
        choices: &[],
        when: Some(("ca", CA_EXISTING)),
        validate: validate_pca_arn,
    },
    Setting {
        key: "ca_certificate_file",
        question: "CA certificate (PEM file)?",
        help: "the CA's own certificate: basic constraints CA:TRUE, allowed to sign certificates",
        default: SettingDefault::None,
        choices: &[],
        when: Some(("ca", CA_BRING)),
        validate: validate_file,
    },
    Setting {
        key: "ca_key_file",
        question: "CA private key (PEM file)?",
        help: "read once, kept in your OS keyring; the file is not changed",
        default: SettingDefault::None,
        choices: &[],
        when: Some(("ca", CA_BRING)),
        validate: validate_file,
    },
];

fn validate_label(label: &str) -> Result<(), String> {
    let ok = !label.is_empty()
        && label.len() <= 63
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{label}' is not one DNS label (1-63 of a-z, 0-9 and '-', not starting or ending \
             with '-')"
        ))
    }
}

fn validate_domain(domain: &str) -> Result<(), String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let labels: Vec<&str> = domain.split('.').collect();
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_lowercase()));
    if labels.len() < 2 || !tld_ok || labels.iter().any(|l| validate_label(l).is_err()) {
        return Err(format!(
            "'{domain}' is not a domain name like example.com (lowercase labels joined by dots)"
        ));
    }
    Ok(())
}

fn validate_pca_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "acm-pca"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].starts_with("certificate-authority/");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{arn}' is not a Private CA ARN (arn:aws:acm-pca:<region>:<account>:\
             certificate-authority/<id>); `aws acm-pca list-certificate-authorities` lists yours"
        ))
    }
}

fn validate_file(path: &str) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(format!("{path} is not a file")),
        Err(e) => Err(format!("cannot read {path}: {e}")),
    }
}

const CA: &str = "ca";
const NETWORK: &str = "producer-network";
const BUNDLE: &str = "trust-bundle";
const API: &str = "producer-api";
const PRIVATE_DNS: &str = "private-dns";
const CONSUMER: &str = "consumer";

fn out(step: &'static str, key: &'static str) -> Source {
    Source::Output { step, key }
}

pub fn steps() -> Vec<Step> {
    let mut api_parameters = vec![
        ("DeploymentName", Source::DeploymentName),
        ("ConsumerAccountId", Source::AccountId(Role::Consumer)),
        ("Subdomain", Source::Setting("subdomain")),
        ("DomainName", Source::Setting("domain")),
        ("HostedZoneId", Source::HostedZoneOf("domain")),
        ("VpcId", out(NETWORK, "VpcId")),
        ("PrivateSubnetIds", out(NETWORK, "PrivateSubnetIds")),
        ("ExecuteApiEndpointId", out(NETWORK, "ExecuteApiEndpointId")),
        ("AlbSecurityGroupId", out(NETWORK, "AlbSecurityGroupId")),
        ("NlbSecurityGroupId", out(NETWORK, "NlbSecurityGroupId")),
        ("LogsBucketName", out(NETWORK, "LogsBucketName")),
        (
            "TrustBundleBucketName",
            out(NETWORK, "TrustBundleBucketName"),
        ),
        ("TrustBundleKey", out(BUNDLE, "TrustBundleKey")),
        ("TrustBundleVersion", out(BUNDLE, "TrustBundleVersion")),
        ("ApiKeySecretArn", out(NETWORK, "ApiKeySecretArn")),
        ("ApiKeyKmsKeyArn", out(NETWORK, "ApiKeyKmsKeyArn")),
    ];
    api_parameters.extend(super::logging_role_parameters());
    vec![
        Step {
            id: CA,
            title: "Certificate authority for the client certificates",
            after: &[],
            role: Role::Producer,
            kind: StepKind::CertificateAuthority {
                choice: Source::Setting("ca"),
            },
        },
        Step {
            id: NETWORK,
            title: "Producer network, execute-api endpoint, API key and buckets",
            after: &[],
            role: Role::Producer,
            kind: stack(
                "producer-network",
                template!("pattern2", "producer-network.yaml"),
                vec![
                    ("DeploymentName", Source::DeploymentName),
                    ("ConsumerAccountId", Source::AccountId(Role::Consumer)),
                ],
                // Last: the API stack uses its VPC, groups and buckets.
                2,
                None,
            ),
        },
        Step {
            id: BUNDLE,
            title: "Upload the CA certificate the ALB's trust store reads",
            after: &[],
            role: Role::Producer,
            kind: StepKind::UploadTrustBundle {
                bucket: out(NETWORK, "TrustBundleBucketName"),
                ca_certificate: out(CA, "CaCertificate"),
            },
        },
        Step {
            id: API,
            title: "Producer API, mTLS load balancer and endpoint service",
            after: &[],
            role: Role::Producer,
            kind: stack(
                "producer-api",
                template!("pattern2", "producer-api.yaml"),
                api_parameters,
                1,
                Some(super::RedeployStage {
                    api_id_output: "ApiId",
                    stage: "prod",
                }),
            ),
        },
        Step {
            id: "register-targets",
            title: "Register the execute-api endpoint's addresses as the ALB's targets",
            after: &[],
            role: Role::Producer,
            kind: StepKind::RegisterEndpointTargets {
                endpoint_id: out(NETWORK, "ExecuteApiEndpointId"),
                target_group_arn: out(API, "ApiTargetGroupArn"),
            },
        },
        Step {
            id: PRIVATE_DNS,
            title: "Verify the service's private DNS name",
            after: &[],
            role: Role::Producer,
            kind: StepKind::VerifyPrivateDns {
                service_id: out(API, "EndpointServiceId"),
            },
        },
        Step {
            id: CONSUMER,
            title: "Consumer network, endpoint to the service and test instance",
            // An endpoint with private DNS needs the service's name verified first.
            after: &[PRIVATE_DNS],
            role: Role::Consumer,
            kind: stack(
                "consumer",
                template!("pattern2", "consumer.yaml"),
                vec![
                    ("DeploymentName", Source::DeploymentName),
                    ("ProducerAccountId", Source::AccountId(Role::Producer)),
                    ("EndpointServiceName", out(API, "EndpointServiceName")),
                    ("ApiKeySecretArn", out(NETWORK, "ApiKeySecretArn")),
                    ("ApiKeyKmsKeyArn", out(NETWORK, "ApiKeyKmsKeyArn")),
                    (
                        "AvailabilityZone1",
                        Source::ServiceZone {
                            step: API,
                            key: "EndpointServiceName",
                            index: 0,
                        },
                    ),
                    (
                        "AvailabilityZone2",
                        Source::ServiceZone {
                            step: API,
                            key: "EndpointServiceName",
                            index: 1,
                        },
                    ),
                ],
                // First: its endpoint is a connection the service cannot be deleted with.
                0,
                None,
            ),
        },
        Step {
            id: "accept-connection",
            title: "Accept the consumer's connection to the service",
            after: &[],
            role: Role::Producer,
            kind: StepKind::AcceptConnection {
                service_id: out(API, "EndpointServiceId"),
                endpoint_id: out(CONSUMER, "ServiceEndpointId"),
            },
        },
        Step {
            id: "test",
            title: "mTLS test from the consumer's instance",
            after: &[],
            role: Role::Consumer,
            kind: StepKind::MtlsTest {
                instance_id: out(CONSUMER, "InstanceId"),
                host: out(API, "ServiceHost"),
                api_key_secret_arn: out(NETWORK, "ApiKeySecretArn"),
                ca_kind: out(CA, "CaKind"),
                checks: MTLS_CHECKS,
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_2_runs_the_ca_beside_the_network_and_the_consumer_after_private_dns() {
        let plan = steps();
        let needs = |id: &str| {
            let step = plan.iter().find(|s| s.id == id).expect("a step");
            let mut needs = step.needs(&plan);
            needs.sort_unstable();
            needs
        };
        assert!(needs(CA).is_empty());
        assert!(needs(NETWORK).is_empty());
        assert_eq!(needs(BUNDLE), [CA, NETWORK]);
        assert_eq!(needs(API), [NETWORK, BUNDLE]);
        assert_eq!(needs("register-targets"), [API, NETWORK]);
        assert_eq!(needs(CONSUMER), [PRIVATE_DNS, API, NETWORK]);
        assert_eq!(needs("accept-connection"), [CONSUMER, API]);
        assert_eq!(needs("test").len(), plan.len() - 1);
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_domain("xwizard.test").is_ok());
        assert!(validate_domain("a.example.com.").is_ok());
        for bad in ["", "com", "Example.com", "a..b", "-a.com", "a.c0m"] {
            assert!(validate_domain(bad).is_err(), "{bad}");
        }
        assert!(
            validate_pca_arn("arn:aws:acm-pca:us-east-1:111111111111:certificate-authority/abc")
                .is_ok()
        );
        assert!(validate_pca_arn("arn:aws:acm:us-east-1:1:certificate/x").is_err());
        assert!(validate_label("mtls-ab12").is_ok());
        assert!(validate_label("a.b").is_err());
    }
}
