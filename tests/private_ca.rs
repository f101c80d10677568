//! AWS Private CA through the real SDK client against the sandbox: a root CA made for a
//! deployment in the producer account, a client certificate issued from a CSR made here,
//! checked the way the ALB checks it, then the CA disabled and deleted.

mod common;

use common::{sandbox, unique};
use xwizard::aws::pca::{Pace, PcaMode, PrivateCa};
use xwizard::ca;

#[tokio::test]
async fn a_root_ca_issues_client_certificates_that_chain_to_it_then_goes() {
    let sb = sandbox();
    let producer = sb.session("producer").await;
    let pca = PrivateCa::new(&producer).with_pace(Pace::SANDBOX);
    let deployment = unique("pca");

    let arn = pca
        .create_root_ca(
            "xwizard sandbox test CA",
            PcaMode::GeneralPurpose,
            &deployment,
        )
        .await
        .unwrap();
    assert!(arn.contains(":acm-pca:"), "{arn}");
    assert!(
        arn.contains(":111111111111:"),
        "made in the producer account: {arn}"
    );

    // Not usable until its certificate is installed.
    let err = pca.check_usable(&arn).await.unwrap_err().to_string();
    assert!(
        err.contains("CREATING") || err.contains("PENDING_CERTIFICATE"),
        "{err}"
    );
    assert_eq!(
        pca.find_for_deployment(&deployment).await.unwrap(),
        vec![(arn.clone(), pca.status(&arn).await.unwrap().status)]
    );

    let ca_pem = pca.install_root_certificate(&arn).await.unwrap();
    let status = pca.status(&arn).await.unwrap();
    assert_eq!(status.status, "ACTIVE");
    assert_eq!(status.mode, Some(PcaMode::GeneralPurpose));
    assert_eq!(status.certificate_pem.as_deref(), Some(ca_pem.as_str()));
    let ca_facts = ca::certificate_facts(&ca_pem).unwrap();
    assert!(ca_facts.is_ca, "{ca_facts:?}");
    assert!(
        ca_facts.subject.contains("CN=xwizard sandbox test CA"),
        "{ca_facts:?}"
    );
    assert_eq!(ca_facts.issuer, ca_facts.subject, "a self-signed root");
    assert_eq!(pca.check_usable(&arn).await.unwrap(), ca_pem);
    // Resuming an installed CA leaves it as it is.
    assert_eq!(pca.install_root_certificate(&arn).await.unwrap(), ca_pem);

    let (_key, csr) = ca::client_key_and_csr("sandbox-consumer").unwrap();
    let cert = pca.issue_client_certificate(&arn, &csr, 30).await.unwrap();
    assert_eq!(
        cert.matches("-----BEGIN CERTIFICATE-----").count(),
        1,
        "{cert}"
    );
    assert!(
        ca::issued_by(&cert, &ca_pem).unwrap(),
        "the certificate does not chain to the CA"
    );
    let facts = ca::certificate_facts(&cert).unwrap();
    assert_eq!(facts.subject, "CN=sandbox-consumer");
    assert_eq!(facts.issuer, ca_facts.subject);
    assert!(!facts.is_ca, "{facts:?}");
    // AWS's EndEntityClientAuthCertificate/V1 template adds extendedKeyUsage clientAuth.
    assert!(
        facts.client_auth,
        "no clientAuth extended key usage: {facts:?}"
    );
    // Valid for the 30 days asked.
    let days = validity_days(&cert);
    assert!(
        (29..=31).contains(&days),
        "valid {days} days, not 30: {facts:?}"
    );
    verify_with_openssl(&ca_pem, &cert);

    // A certificate of another CA does not pass for one of this CA.
    let other = ca::LocalCa::new("another CA", 30).unwrap();
    let foreign = other.sign_client_csr(&csr, 1).unwrap();
    assert!(!ca::issued_by(&foreign, &ca_pem).unwrap());

    let restorable_until = pca.disable_and_delete(&arn, 7).await.unwrap();
    let status = pca.status(&arn).await.unwrap();
    assert_eq!(status.status, "DELETED");
    assert_eq!(status.restorable_until, restorable_until);
    assert!(
        pca.find_for_deployment(&deployment)
            .await
            .unwrap()
            .is_empty()
    );
    // A deleted CA says so, with what can be done.
    let err = pca.check_usable(&arn).await.unwrap_err().to_string();
    assert!(err.contains("DELETED"), "{err}");
    let err = pca
        .issue_client_certificate(&arn, &csr, 30)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot issue certificates: it is DELETED"),
        "{err}"
    );
    // Deleting again is not an error.
    assert_eq!(
        pca.disable_and_delete(&arn, 7).await.unwrap(),
        restorable_until
    );
}

#[tokio::test]
async fn a_short_lived_mode_ca_refuses_long_certificates_before_asking_aws() {
    let sb = sandbox();
    let producer = sb.session("producer").await;
    let pca = PrivateCa::new(&producer).with_pace(Pace::SANDBOX);
    let deployment = unique("pca-short");
    let arn = pca
        .create_root_ca(
            "short-lived CA",
            PcaMode::ShortLivedCertificate,
            &deployment,
        )
        .await
        .unwrap();
    let ca_pem = pca.install_root_certificate(&arn).await.unwrap();
    assert_eq!(
        pca.status(&arn).await.unwrap().mode,
        Some(PcaMode::ShortLivedCertificate)
    );
    let (_key, csr) = ca::client_key_and_csr("short").unwrap();
    let err = pca
        .issue_client_certificate(&arn, &csr, 30)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("at most 7 days, not 30"), "{err}");
    let cert = pca.issue_client_certificate(&arn, &csr, 7).await.unwrap();
    assert!(ca::issued_by(&cert, &ca_pem).unwrap());
    pca.disable_and_delete(&arn, 7).await.unwrap();
}

#[tokio::test]
async fn an_existing_ca_is_checked_with_reasons() {
    let sb = sandbox();
    let producer = sb.session("producer").await;
    let pca = PrivateCa::new(&producer).with_pace(Pace::SANDBOX);
    let region = producer.config.region().unwrap().to_string();

    let err = pca
        .check_usable("not-an-arn")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a Private CA ARN"), "{err}");
    let elsewhere = if region == "eu-west-1" {
        "us-east-1"
    } else {
        "eu-west-1"
    };
    let err = pca
        .check_usable(&format!(
            "arn:aws:acm-pca:{elsewhere}:111111111111:certificate-authority/00000000-0000-0000-0000-000000000000"
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("is in {elsewhere}, but the profile uses {region}")),
        "{err}"
    );
    let err = pca
        .check_usable(&format!(
            "arn:aws:acm-pca:{region}:111111111111:certificate-authority/00000000-0000-0000-0000-000000000000"
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("there is no Private CA"), "{err}");
    assert!(err.contains("check the ARN"), "{err}");
}

/// How many whole days the certificate is valid, as x509-parser reads it.
fn validity_days(pem: &str) -> i64 {
    use x509_parser::prelude::FromDer;
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&block.contents).unwrap();
    let v = cert.validity();
    (v.not_after.timestamp() - v.not_before.timestamp()) / 86_400
}

fn verify_with_openssl(ca_pem: &str, cert_pem: &str) {
    if !common::openssl::available() {
        eprintln!("openssl is not installed: the chain was checked with x509-parser only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
    std::fs::write(dir.path().join("client.pem"), cert_pem).unwrap();
    let (ok, text) = common::openssl::verify_client(dir.path(), "ca.pem", "client.pem");
    assert!(ok, "openssl verify: {text}");
}
