//! AWS Private CA (ACM PCA): a root CA made for a deployment, client certificates issued by
//! it (or by an existing CA named by ARN), and its removal.
//!
//! What AWS does, and what this module relies on:
//! - `CreateCertificateAuthority` answers at once with an ARN; the CA is `CREATING`, then
//!   `PENDING_CERTIFICATE` once its key and CSR exist. Until then `GetCertificateAuthorityCsr`
//!   answers `RequestInProgressException`.
//! - A root CA signs its own CSR: `IssueCertificate` with the `RootCACertificate/V1` template.
//!   Issuing is asynchronous: `GetCertificate` answers `RequestInProgressException` until the
//!   certificate exists. `ImportCertificateAuthorityCertificate` installs it and the CA turns
//!   `ACTIVE`.
//! - Only an `ACTIVE` CA issues. A CA in short-lived certificate mode issues certificates of at
//!   most 7 days (its own root certificate is not checked). Client certificates use
//!   `EndEntityClientAuthCertificate/V1`: CA:FALSE, extendedKeyUsage clientAuth.
//! - An `ACTIVE` CA must be disabled before `DeleteCertificateAuthority`; a deleted CA stays
//!   restorable for 7 to 30 days (`RestorableUntil`), and is not charged for meanwhile.
//! - A CA is charged by the month from its creation, prorated, until it is deleted: the
//!   prices below are what the user must see and accept before one is made.
//!
//! moto 5.2.5 (the sandbox) differs: a CA is `PENDING_CERTIFICATE` and its CSR ready at once,
//! every certificate is valid 365 days whatever was asked, client certificates carry no
//! extendedKeyUsage, and it issues in any state. Nothing here depends on that: the state and
//! mode checks are made here, from `DescribeCertificateAuthority`, before asking AWS to issue.
//!
//! Every wait polls gently (once a second against AWS) and has a deadline; when one passes,
//! the error says what was awaited and what to do next. Creating and issuing carry
//! idempotency tokens, so the SDK's own retries never make a second CA or certificate.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_acmpca::types::{
    Asn1Subject, CertificateAuthorityConfiguration, CertificateAuthorityStatus,
    CertificateAuthorityType, CertificateAuthorityUsageMode, KeyAlgorithm, SigningAlgorithm, Tag,
    Validity, ValidityPeriodType,
};
use aws_smithy_types::Blob;

use super::Session;
use super::error::{code, explain, throttled};

/// What AWS charges per month for one general-purpose CA (USD, every region; prorated;
/// the first CA of an account in a region is free for its first 30 days). AWS Private CA
/// pricing page, November 2026.
pub const MONTHLY_PRICE_GENERAL_PURPOSE_USD: u32 = 400;
/// What AWS charges per month for one CA in short-lived certificate mode (USD; as above).
pub const MONTHLY_PRICE_SHORT_LIVED_USD: u32 = 50;
/// The longest validity a short-lived certificate mode CA issues.
pub const SHORT_LIVED_MAX_DAYS: u32 = 7;
/// The root certificate's validity.
pub const ROOT_VALIDITY_YEARS: i64 = 10;

pub const ROOT_TEMPLATE: &str = "arn:aws:acm-pca:::template/RootCACertificate/V1";
pub const CLIENT_TEMPLATE: &str = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1";

/// A Private CA's operating mode: what it may issue, and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcaMode {
    /// Certificates of any validity: $400 a month.
    GeneralPurpose,
    /// Certificates of at most 7 days: $50 a month.
    ShortLivedCertificate,
}

impl PcaMode {
    pub fn monthly_price_usd(self) -> u32 {
        match self {
            PcaMode::GeneralPurpose => MONTHLY_PRICE_GENERAL_PURPOSE_USD,
            PcaMode::ShortLivedCertificate => MONTHLY_PRICE_SHORT_LIVED_USD,
        }
    }

    /// The longest client certificate the mode allows, if it limits it.
    pub fn max_validity_days(self) -> Option<u32> {
        match self {
            PcaMode::GeneralPurpose => None,
            PcaMode::ShortLivedCertificate => Some(SHORT_LIVED_MAX_DAYS),
        }
    }

    /// "general-purpose", "short-lived certificate".
    pub fn label(self) -> &'static str {
        match self {
            PcaMode::GeneralPurpose => "general-purpose",
            PcaMode::ShortLivedCertificate => "short-lived certificate",
        }
    }

    fn sdk(self) -> CertificateAuthorityUsageMode {
        match self {
            PcaMode::GeneralPurpose => CertificateAuthorityUsageMode::GeneralPurpose,
            PcaMode::ShortLivedCertificate => CertificateAuthorityUsageMode::ShortLivedCertificate,
        }
    }

    fn from_sdk(mode: &CertificateAuthorityUsageMode) -> Option<PcaMode> {
        match mode {
            CertificateAuthorityUsageMode::GeneralPurpose => Some(PcaMode::GeneralPurpose),
            CertificateAuthorityUsageMode::ShortLivedCertificate => {
                Some(PcaMode::ShortLivedCertificate)
            }
            _ => None,
        }
    }
}

/// How often to ask while waiting, and how long each wait may last.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub interval: Duration,
    /// For the CA's key and CSR after it was created.
    pub csr_within: Duration,
    /// For an issued certificate.
    pub certificate_within: Duration,
    /// For a state change (ACTIVE after the import, DISABLED before the deletion).
    pub state_within: Duration,
}

impl Pace {
    /// Real AWS: a CA's key takes seconds to a minute or two; certificates seconds.
    pub const AWS: Pace = Pace {
        interval: Duration::from_secs(1),
        csr_within: Duration::from_secs(300),
        certificate_within: Duration::from_secs(120),
        state_within: Duration::from_secs(120),
    };
    /// The local sandbox: the same deadlines, asked ten times as often.
    pub const SANDBOX: Pace = Pace {
        interval: Duration::from_millis(100),
        ..Pace::AWS
    };
}

/// What a Private CA is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcaStatus {
    /// AWS's word: `CREATING`, `PENDING_CERTIFICATE`, `ACTIVE`, `DISABLED`, `EXPIRED`,
    /// `FAILED`, `DELETED`.
    pub status: String,
    /// The CA certificate, once one is installed.
    pub certificate_pem: Option<String>,
    pub mode: Option<PcaMode>,
    /// Why a `FAILED` CA failed.
    pub failure_reason: Option<String>,
    /// Until when a `DELETED` CA can be restored (RFC 3339).
    pub restorable_until: Option<String>,
}

pub struct PrivateCa {
    client: aws_sdk_acmpca::Client,
    region: Option<String>,
    pace: Pace,
}

impl PrivateCa {
    pub fn new(session: &Session) -> Self {
        Self {
            client: aws_sdk_acmpca::Client::new(&session.config),
            region: session.config.region().map(|r| r.to_string()),
            pace: Pace::AWS,
        }
    }

    /// The same, waiting at another pace (the sandbox's is faster).
    pub fn with_pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// Creates a root CA named `common_name` (EC P-256, SHA256WITHECDSA) in `mode`, tagged
    /// with the deployment: its ARN. It is charged from now: the caller has shown the price
    /// ([`PcaMode::monthly_price_usd`]) and had it accepted. The CA is not usable until
    /// [`PrivateCa::install_root_certificate`] has run.
    pub async fn create_root_ca(
        &self,
        common_name: &str,
        mode: PcaMode,
        deployment: &str,
    ) -> Result<String> {
        if common_name.trim().is_empty() || common_name.chars().count() > 64 {
            bail!("a Private CA's common name must be 1 to 64 characters, not {common_name:?}");
        }
        let config = CertificateAuthorityConfiguration::builder()
            .key_algorithm(KeyAlgorithm::EcPrime256v1)
            .signing_algorithm(SigningAlgorithm::Sha256Withecdsa)
            .subject(Asn1Subject::builder().common_name(common_name).build())
            .build()
            .context("building the CA configuration")?;
        let tag = Tag::builder()
            .key(crate::plan::DEPLOYMENT_TAG)
            .value(deployment)
            .build()
            .context("building the deployment tag")?;
        let out = self
            .client
            .create_certificate_authority()
            .certificate_authority_type(CertificateAuthorityType::Root)
            .certificate_authority_configuration(config)
            .usage_mode(mode.sdk())
            .tags(tag)
            .idempotency_token(random_token()?)
            .send()
            .await
            .map_err(|e| explain(format!("cannot create the Private CA {common_name:?}"), e))?;
        out.certificate_authority_arn()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("AWS created a Private CA but did not say its ARN"))
    }

    /// Makes the root CA `arn` usable: waits for its CSR, has it sign its own root
    /// certificate (10 years), installs it and waits until the CA is `ACTIVE`; the CA
    /// certificate. Resumable: an `ACTIVE` CA is left as it is, one `CREATING` or
    /// `PENDING_CERTIFICATE` is finished.
    pub async fn install_root_certificate(&self, arn: &str) -> Result<String> {
        let ca = self.describe(arn).await?;
        let status = ca.status().cloned();
        match status {
            Some(CertificateAuthorityStatus::Active) => return self.ca_certificate(arn).await,
            Some(CertificateAuthorityStatus::Creating)
            | Some(CertificateAuthorityStatus::PendingCertificate) => {}
            _ => return Err(unusable(arn, &ca)),
        }
        let signing = ca
            .certificate_authority_configuration()
            .map(|c| c.signing_algorithm().clone())
            .unwrap_or(SigningAlgorithm::Sha256Withecdsa);

        let csr = self
            .wait(
                &format!("the CSR of the Private CA {arn}"),
                self.pace.csr_within,
                "AWS is still making the CA's key; run again later to resume, or check the CA \
                 in the AWS Private CA console",
                || async {
                    match self
                        .client
                        .get_certificate_authority_csr()
                        .certificate_authority_arn(arn)
                        .send()
                        .await
                    {
                        Ok(out) => Ok(out.csr().map(str::to_string)),
                        Err(e) if code(&e) == Some("RequestInProgressException") => Ok(None),
                        Err(e) => Err(explain(format!("cannot read the CSR of {arn}"), e)),
                    }
                },
            )
            .await?;

        let issued = self
            .client
            .issue_certificate()
            .certificate_authority_arn(arn)
            .csr(Blob::new(csr.into_bytes()))
            .signing_algorithm(signing)
            .template_arn(ROOT_TEMPLATE)
            .validity(
                Validity::builder()
                    .r#type(ValidityPeriodType::Years)
                    .value(ROOT_VALIDITY_YEARS)
                    .build()
                    .context("building the validity")?,
            )
            // The same CA asks for the same root certificate: a retry within AWS's five
            // minutes gets the same one back instead of a second.
            .idempotency_token(derived_token("root", arn))
            .send()
            .await
            .map_err(|e| explain(format!("cannot issue the root certificate of {arn}"), e))?;
        let cert_arn = issued
            .certificate_arn()
            .ok_or_else(|| anyhow!("AWS issued the root certificate of {arn} without its ARN"))?
            .to_string();
        let cert = self.wait_certificate(arn, &cert_arn).await?;

        self.client
            .import_certificate_authority_certificate()
            .certificate_authority_arn(arn)
            .certificate(Blob::new(cert.into_bytes()))
            .send()
            .await
            .map_err(|e| explain(format!("cannot install the root certificate in {arn}"), e))?;
        self.wait_status(arn, CertificateAuthorityStatus::Active)
            .await?;
        self.ca_certificate(arn).await
    }

    /// The CA's state, its certificate once it has one, its mode.
    pub async fn status(&self, arn: &str) -> Result<PcaStatus> {
        let ca = self.describe(arn).await?;
        let status = ca.status().cloned();
        let certificate_pem = match status {
            Some(CertificateAuthorityStatus::Active)
            | Some(CertificateAuthorityStatus::Disabled)
            | Some(CertificateAuthorityStatus::Expired) => {
                match self
                    .client
                    .get_certificate_authority_certificate()
                    .certificate_authority_arn(arn)
                    .send()
                    .await
                {
                    Ok(out) => out.certificate().map(str::to_string),
                    Err(e) if code(&e) == Some("InvalidStateException") => None,
                    Err(e) => {
                        return Err(explain(format!("cannot read the certificate of {arn}"), e));
                    }
                }
            }
            _ => None,
        };
        Ok(PcaStatus {
            status: status
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "UNKNOWN".into()),
            certificate_pem,
            mode: ca.usage_mode().and_then(PcaMode::from_sdk),
            failure_reason: ca.failure_reason().map(|r| r.as_str().to_string()),
            restorable_until: ca.restorable_until().and_then(rfc3339),
        })
    }

    /// The CA certificate of `arn` if the CA can issue now (`ACTIVE`), or an error that says
    /// what is wrong with it and what to do: for "use an existing Private CA".
    pub async fn check_usable(&self, arn: &str) -> Result<String> {
        self.check_arn(arn)?;
        let ca = self.describe(arn).await?;
        if ca.status() != Some(&CertificateAuthorityStatus::Active) {
            return Err(unusable(arn, &ca));
        }
        self.ca_certificate(arn).await
    }

    /// Issues a client certificate (`EndEntityClientAuthCertificate/V1`) for `csr_pem`, valid
    /// `validity_days`: the certificate, one PEM block (the CA certificate is not appended).
    pub async fn issue_client_certificate(
        &self,
        arn: &str,
        csr_pem: &str,
        validity_days: u32,
    ) -> Result<String> {
        if validity_days == 0 {
            bail!("a client certificate must be valid for at least one day");
        }
        let ca = self.describe(arn).await?;
        if ca.status() != Some(&CertificateAuthorityStatus::Active) {
            return Err(unusable(arn, &ca));
        }
        let mode = ca.usage_mode().and_then(PcaMode::from_sdk);
        if let Some(max) = mode.and_then(PcaMode::max_validity_days)
            && validity_days > max
        {
            bail!(
                "the Private CA {arn} is in short-lived certificate mode and issues \
                 certificates of at most {max} days, not {validity_days}: ask for {max} or fewer"
            );
        }
        let signing = ca
            .certificate_authority_configuration()
            .map(|c| c.signing_algorithm().clone())
            .ok_or_else(|| anyhow!("AWS did not say how the Private CA {arn} signs"))?;
        let issued = self
            .client
            .issue_certificate()
            .certificate_authority_arn(arn)
            .csr(Blob::new(csr_pem.as_bytes()))
            .signing_algorithm(signing)
            .template_arn(CLIENT_TEMPLATE)
            .validity(
                Validity::builder()
                    .r#type(ValidityPeriodType::Days)
                    .value(i64::from(validity_days))
                    .build()
                    .context("building the validity")?,
            )
            .idempotency_token(derived_token(
                "client",
                &format!("{arn}\n{validity_days}\n{csr_pem}"),
            ))
            .send()
            .await
            .map_err(|e| explain(format!("cannot issue a client certificate from {arn}"), e))?;
        let cert_arn = issued
            .certificate_arn()
            .ok_or_else(|| anyhow!("AWS issued a certificate from {arn} without its ARN"))?
            .to_string();
        self.wait_certificate(arn, &cert_arn).await
    }

    /// Disables the CA if it is `ACTIVE`, then deletes it, restorable for
    /// `permanent_deletion_days` (7 to 30): until when it can be restored (RFC 3339), when
    /// AWS says. A CA already deleted or gone is not an error.
    pub async fn disable_and_delete(
        &self,
        arn: &str,
        permanent_deletion_days: u32,
    ) -> Result<Option<String>> {
        if !(7..=30).contains(&permanent_deletion_days) {
            bail!(
                "a deleted Private CA stays restorable for 7 to 30 days, not \
                 {permanent_deletion_days}"
            );
        }
        let ca = match self.describe_if_exists(arn).await? {
            Some(ca) => ca,
            None => return Ok(None),
        };
        match ca.status() {
            Some(CertificateAuthorityStatus::Deleted) => {
                return Ok(ca.restorable_until().and_then(rfc3339));
            }
            Some(CertificateAuthorityStatus::Active) => {
                self.client
                    .update_certificate_authority()
                    .certificate_authority_arn(arn)
                    .status(CertificateAuthorityStatus::Disabled)
                    .send()
                    .await
                    .map_err(|e| explain(format!("cannot disable the Private CA {arn}"), e))?;
                self.wait_status(arn, CertificateAuthorityStatus::Disabled)
                    .await?;
            }
            _ => {}
        }
        self.client
            .delete_certificate_authority()
            .certificate_authority_arn(arn)
            .permanent_deletion_time_in_days(permanent_deletion_days as i32)
            .send()
            .await
            .map_err(|e| explain(format!("cannot delete the Private CA {arn}"), e))?;
        Ok(self
            .describe_if_exists(arn)
            .await?
            .and_then(|ca| ca.restorable_until().and_then(rfc3339)))
    }

    /// The CAs tagged for `deployment` and not deleted, with their status: what a run that
    /// stopped between creating a CA and recording its ARN left behind.
    pub async fn find_for_deployment(&self, deployment: &str) -> Result<Vec<(String, String)>> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_certificate_authorities()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| explain("cannot list the Private CAs", e))?;
            for ca in page.certificate_authorities() {
                let (Some(arn), Some(status)) = (ca.arn(), ca.status()) else {
                    continue;
                };
                if *status == CertificateAuthorityStatus::Deleted {
                    continue;
                }
                let tags = self
                    .client
                    .list_tags()
                    .certificate_authority_arn(arn)
                    .send()
                    .await
                    .map_err(|e| explain(format!("cannot read the tags of {arn}"), e))?;
                let ours = tags.tags().iter().any(|t| {
                    t.key() == crate::plan::DEPLOYMENT_TAG && t.value() == Some(deployment)
                });
                if ours {
                    found.push((arn.to_string(), status.as_str().to_string()));
                }
            }
        }
        Ok(found)
    }

    async fn describe(&self, arn: &str) -> Result<aws_sdk_acmpca::types::CertificateAuthority> {
        match self.describe_if_exists(arn).await? {
            Some(ca) => Ok(ca),
            None => Err(anyhow!(
                "there is no Private CA {arn} in this account and region{}: check the ARN, \
                 and that the profile is for the CA's account and region",
                self.region
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )),
        }
    }

    async fn describe_if_exists(
        &self,
        arn: &str,
    ) -> Result<Option<aws_sdk_acmpca::types::CertificateAuthority>> {
        match self
            .client
            .describe_certificate_authority()
            .certificate_authority_arn(arn)
            .send()
            .await
        {
            Ok(out) => Ok(out.certificate_authority().cloned()),
            Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(explain(format!("cannot describe the Private CA {arn}"), e)),
        }
    }

    async fn ca_certificate(&self, arn: &str) -> Result<String> {
        let out = self
            .client
            .get_certificate_authority_certificate()
            .certificate_authority_arn(arn)
            .send()
            .await
            .map_err(|e| explain(format!("cannot read the certificate of {arn}"), e))?;
        out.certificate()
            .map(with_newline)
            .ok_or_else(|| anyhow!("the Private CA {arn} has no certificate yet"))
    }

    /// An ARN of a Private CA, in the profile's region: said plainly before AWS is asked.
    fn check_arn(&self, arn: &str) -> Result<()> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [arn_word, _partition, service, region, account, resource] = parts.as_slice() else {
            bail!(
                "{arn:?} is not a Private CA ARN (arn:aws:acm-pca:REGION:ACCOUNT:\
                 certificate-authority/ID)"
            );
        };
        if *arn_word != "arn"
            || *service != "acm-pca"
            || account.is_empty()
            || !resource.starts_with("certificate-authority/")
        {
            bail!(
                "{arn:?} is not a Private CA ARN (arn:aws:acm-pca:REGION:ACCOUNT:\
                 certificate-authority/ID)"
            );
        }
        if let Some(mine) = &self.region
            && mine != region
        {
            bail!(
                "the Private CA {arn} is in {region}, but the profile uses {mine}: use a \
                 profile (or --region) for {region}"
            );
        }
        Ok(())
    }

    async fn wait_certificate(&self, ca_arn: &str, cert_arn: &str) -> Result<String> {
        self.wait(
            &format!("the certificate {cert_arn}"),
            self.pace.certificate_within,
            "AWS has not finished issuing it; run again later, or look at the CA in the AWS \
             Private CA console",
            || async {
                match self
                    .client
                    .get_certificate()
                    .certificate_authority_arn(ca_arn)
                    .certificate_arn(cert_arn)
                    .send()
                    .await
                {
                    Ok(out) => Ok(out.certificate().map(with_newline)),
                    Err(e) if code(&e) == Some("RequestInProgressException") => Ok(None),
                    Err(e) => Err(explain(
                        format!("cannot read the certificate {cert_arn}"),
                        e,
                    )),
                }
            },
        )
        .await
    }

    async fn wait_status(&self, arn: &str, wanted: CertificateAuthorityStatus) -> Result<()> {
        let wanted_text = wanted.as_str().to_string();
        self.wait(
            &format!("the Private CA {arn} to be {wanted_text}"),
            self.pace.state_within,
            "run again later to resume, or look at the CA in the AWS Private CA console",
            || async {
                let ca = self.describe(arn).await?;
                match ca.status() {
                    Some(s) if *s == wanted => Ok(Some(())),
                    Some(CertificateAuthorityStatus::Failed) => Err(unusable(arn, &ca)),
                    _ => Ok(None),
                }
            },
        )
        .await
    }

    /// Calls `attempt` every `interval` until it answers `Some`, an error, or `within` has
    /// passed. A throttled call counts as "not yet".
    async fn wait<T, F, Fut>(
        &self,
        what: &str,
        within: Duration,
        next: &str,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let deadline = Instant::now() + within;
        loop {
            match attempt().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(e) if throttled(&e) => {}
                Err(e) => return Err(e),
            }
            if Instant::now() + self.pace.interval > deadline {
                bail!("waited {} s for {what}, in vain: {next}", within.as_secs());
            }
            tokio::time::sleep(self.pace.interval).await;
        }
    }
}

/// Why the CA cannot be used in its state, and what to do.
fn unusable(arn: &str, ca: &aws_sdk_acmpca::types::CertificateAuthority) -> anyhow::Error {
    let status = ca.status().map(|s| s.as_str()).unwrap_or("UNKNOWN");
    let advice = match ca.status() {
        Some(CertificateAuthorityStatus::Creating) => {
            "AWS is still making it: wait a minute and run again".to_string()
        }
        Some(CertificateAuthorityStatus::PendingCertificate) => {
            "it has no CA certificate installed yet: install one (a root CA xwizard created \
             is finished by running again), or choose another CA"
                .to_string()
        }
        Some(CertificateAuthorityStatus::Disabled) => {
            "it is disabled: enable it (aws acm-pca update-certificate-authority --status \
             ACTIVE) or choose another CA"
                .to_string()
        }
        Some(CertificateAuthorityStatus::Expired) => {
            "its certificate has expired: renew it, or choose another CA".to_string()
        }
        Some(CertificateAuthorityStatus::Deleted) => {
            match ca.restorable_until().and_then(rfc3339) {
                Some(until) => format!(
                    "it was deleted; it can be restored until {until} (aws acm-pca \
                 restore-certificate-authority), or choose another CA"
                ),
                None => "it was deleted: choose another CA".to_string(),
            }
        }
        Some(CertificateAuthorityStatus::Failed) => format!(
            "AWS could not create it ({}): delete it and create another",
            ca.failure_reason()
                .map(|r| r.as_str())
                .unwrap_or("no reason given")
        ),
        _ => "choose another CA".to_string(),
    };
    anyhow!("the Private CA {arn} cannot issue certificates: it is {status}; {advice}")
}

fn rfc3339(t: &aws_smithy_types::DateTime) -> Option<String> {
    t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

fn with_newline(pem: &str) -> String {
    let mut pem = pem.trim_end().to_string();
    pem.push('\n');
    pem
}

/// 32 random hex characters: an idempotency token for one call and the SDK's retries of it.
fn random_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| anyhow!("the system's random number generator failed"))?;
    Ok(hex::encode(bytes))
}

/// 32 hex characters that are the same for the same request (AWS allows 36).
fn derived_token(kind: &str, input: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{kind}\n{input}").as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_match_the_pricing_page() {
        assert_eq!(PcaMode::GeneralPurpose.monthly_price_usd(), 400);
        assert_eq!(PcaMode::ShortLivedCertificate.monthly_price_usd(), 50);
        assert_eq!(PcaMode::ShortLivedCertificate.max_validity_days(), Some(7));
        assert_eq!(PcaMode::GeneralPurpose.max_validity_days(), None);
    }

    #[test]
    fn tokens_fit_aws_and_repeat_only_for_the_same_request() {
        let a = derived_token("client", "x");
        assert_eq!(a.len(), 32);
        assert_eq!(a, derived_token("client", "x"));
        assert_ne!(a, derived_token("client", "y"));
        assert_ne!(random_token().unwrap(), random_token().unwrap());
    }
}
