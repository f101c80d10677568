//! Pattern 2's certificate authority: made by xwizard (local), a new AWS Private CA (only once
//! its price was confirmed), an existing one, or one the user brings; and the client
//! certificates it signs. Private keys live in the key store (the OS keyring), never in the
//! deployment's record.

use std::collections::BTreeMap;

use super::{Engine, StepError};
use crate::aws::pca::{PcaMode, PrivateCa};
use crate::ca::LocalCa;
use crate::keys::KeyStore;
use crate::plan::pattern2::{
    CA_BRING, CA_EXISTING, CA_KEY_ENTRY, CA_LOCAL, CA_PRIVATE, CA_PRIVATE_SHORT_LIVED,
    CLIENT_KEY_ENTRY,
};
use crate::plan::{Role, Source, Step};

/// A local CA lasts ten years; the client certificates it signs, a year (a Private CA's,
/// whatever its mode allows: short-lived certificates last at most 7 days).
const CA_DAYS: u32 = 3650;
const CLIENT_DAYS: u32 = 365;
const SHORT_LIVED_CLIENT_DAYS: u32 = 7;

impl Engine<'_> {
    /// The Private CA client of an account, polling at the run's pace.
    pub(super) fn private_ca(&self, role: Role) -> PrivateCa {
        let pace = if self.opts.poll.min < std::time::Duration::from_secs(1) {
            crate::aws::pca::Pace::SANDBOX
        } else {
            crate::aws::pca::Pace::AWS
        };
        PrivateCa::new(self.sessions.of(role)).with_pace(pace)
    }

    pub(super) fn key_store(&self) -> Result<KeyStore, StepError> {
        KeyStore::open(self.opts.key_files.as_deref()).map_err(|e| {
            StepError::new(
                format!("{e:#}"),
                "then `xwizard resume <name>` carries on from this step",
            )
        })
    }

    pub(super) async fn certificate_authority(
        &self,
        step: &Step,
        choice: &Source,
    ) -> Result<(), StepError> {
        let choice = self.resolve(choice)?;
        let d = self.deployment();
        let setting = |key: &str| d.settings.get(key).cloned().unwrap_or_default();
        let mut outputs = BTreeMap::from([("CaKind".to_string(), choice.clone())]);
        let certificate = match choice.as_str() {
            CA_LOCAL | CA_BRING => {
                let store = self.key_store()?;
                let existing = store.get(&d.name, CA_KEY_ENTRY)?;
                let kept_cert = d.step(step.id).outputs.get("CaCertificate").cloned();
                match (existing, kept_cert) {
                    // Resumed: the CA made (or read) before is still whole.
                    (Some(key), Some(cert)) if LocalCa::from_pem(&cert, &key).is_ok() => cert,
                    _ => {
                        let ca = if choice == CA_LOCAL {
                            LocalCa::new(&format!("xwizard {} local CA", d.name), CA_DAYS)?
                        } else {
                            let cert_file = setting("ca_certificate_file");
                            let key_file = setting("ca_key_file");
                            let read = |path: &str| {
                                std::fs::read_to_string(path).map_err(|e| {
                                    StepError::new(
                                        format!("cannot read {path}: {e}"),
                                        "give a readable PEM file with --ca-certificate-file / \
                                         --ca-key-file",
                                    )
                                })
                            };
                            LocalCa::from_pem(&read(&cert_file)?, &read(&key_file)?).map_err(
                                |e| {
                                    StepError::new(
                                        format!("{e:#}"),
                                        "choose a CA certificate and its key, or --ca local",
                                    )
                                },
                            )?
                        };
                        store.put(&d.name, CA_KEY_ENTRY, ca.key_pem())?;
                        self.info(
                            step.id,
                            format!("the CA's private key is kept in {}", store.describe()),
                        );
                        ca.cert_pem().to_string()
                    }
                }
            }
            CA_PRIVATE | CA_PRIVATE_SHORT_LIVED => {
                let pca = self.private_ca(step.role);
                let mode = if choice == CA_PRIVATE {
                    PcaMode::GeneralPurpose
                } else {
                    PcaMode::ShortLivedCertificate
                };
                let arn = match d.step(step.id).outputs.get("CaArn") {
                    Some(arn) if !arn.is_empty() => arn.clone(),
                    _ => {
                        let arn = pca
                            .create_root_ca(&format!("xwizard {} CA", d.name), mode, &d.name)
                            .await?;
                        // Saved at once: a run killed now must not buy a second CA.
                        self.change(|d| {
                            let s = d.step_mut(step.id);
                            s.outputs.insert("CaKind".into(), choice.clone());
                            s.outputs.insert("CaArn".into(), arn.clone());
                            s.outputs.insert("CreatedCaArn".into(), arn.clone());
                        })?;
                        self.info(
                            step.id,
                            format!(
                                "created Private CA {arn}: it costs ${} a month until it is \
                                 deleted (`xwizard destroy {} --delete-private-ca`)",
                                mode.monthly_price_usd(),
                                d.name
                            ),
                        );
                        arn
                    }
                };
                let pem = pca.install_root_certificate(&arn).await?;
                outputs.insert("CaArn".into(), arn.clone());
                outputs.insert("CreatedCaArn".into(), arn.clone());
                pem
            }
            CA_EXISTING => {
                let arn = setting("ca_arn");
                let role = self.role_of_account(&arn)?;
                let pem = self.private_ca(role).check_usable(&arn).await?;
                outputs.insert("CaArn".into(), arn.clone());
                pem
            }
            other => {
                return Err(StepError::new(
                    format!("'{other}' is not a certificate authority xwizard knows"),
                    "start again with --ca local, private-ca, private-ca-short-lived, \
                     existing-private-ca or bring-your-own",
                ));
            }
        };
        if certificate.is_empty() {
            return Err(StepError::new(
                "the CA has no certificate yet",
                "`xwizard resume <name>` carries on from this step",
            ));
        }
        outputs.insert("CaCertificate".into(), certificate);
        self.change(|d| d.step_mut(step.id).outputs = outputs)?;
        Ok(())
    }

    /// Which of the deployment's accounts holds a Private CA, from its ARN.
    fn role_of_account(&self, arn: &str) -> Result<Role, StepError> {
        let d = self.deployment();
        let account = arn.split(':').nth(4).unwrap_or_default();
        Role::BOTH
            .into_iter()
            .find(|r| d.account(*r).account_id == account)
            .ok_or_else(|| {
                StepError::new(
                    format!(
                        "Private CA {arn} is in account {account}, which is neither the \
                         producer's ({}) nor the consumer's ({})",
                        d.producer.account_id, d.consumer.account_id
                    ),
                    "choose a Private CA in one of the two accounts (or share it with AWS RAM \
                     and name the shared copy)",
                )
            })
    }

    /// Signs a client CSR with the deployment's CA.
    pub(super) async fn sign_client_csr(&self, csr_pem: &str) -> Result<String, StepError> {
        let d = self.deployment();
        let ca = d.step("ca").outputs;
        let kind = ca.get("CaKind").cloned().unwrap_or_default();
        match kind.as_str() {
            CA_LOCAL | CA_BRING => {
                let store = self.key_store()?;
                let key = store.get(&d.name, CA_KEY_ENTRY)?;
                let cert = ca.get("CaCertificate").cloned().unwrap_or_default();
                let Some(key) = key else {
                    return Err(StepError::new(
                        format!(
                            "the CA's private key is not in {} (a reboot empties the kernel \
                             keyring; another machine has its own)",
                            store.describe()
                        ),
                        "run the deployment's `ca` step again: `xwizard destroy <name>` and a \
                         new run, or bring the CA back with --ca bring-your-own",
                    ));
                };
                let local = LocalCa::from_pem(&cert, &key)?;
                Ok(local.sign_client_csr(csr_pem, CLIENT_DAYS)?)
            }
            _ => {
                let arn = ca.get("CaArn").cloned().unwrap_or_default();
                let role = self.role_of_account(&arn)?;
                let days = if kind == CA_PRIVATE_SHORT_LIVED {
                    SHORT_LIVED_CLIENT_DAYS
                } else {
                    CLIENT_DAYS
                };
                Ok(self
                    .private_ca(role)
                    .issue_client_certificate(&arn, csr_pem, days)
                    .await?)
            }
        }
    }
}

/// Signs a CSR with a CA made for the purpose and thrown away: one the trust store does not
/// hold, so its certificate must be refused.
pub(super) fn sign_with_untrusted_ca(csr_pem: &str) -> Result<String, StepError> {
    let other = LocalCa::new("xwizard untrusted CA (test only)", 1)?;
    Ok(other.sign_client_csr(csr_pem, 1)?)
}

impl Engine<'_> {
    /// `xwizard cert`: the user's own client certificate, signed by the deployment's CA, and
    /// its key (kept in the key store; made once, then reused). The certificate is public and
    /// saved in the record; the key never is. (certificate PEM, key PEM, CA PEM.)
    pub async fn user_certificate(&self) -> anyhow::Result<(String, String, String)> {
        let d = self.deployment();
        let ca = d.step("ca").outputs;
        let Some(ca_pem) = ca.get("CaCertificate").cloned() else {
            anyhow::bail!(
                "{} has no certificate authority yet: `xwizard resume {}` makes it first",
                d.name,
                d.name
            );
        };
        let store = self.key_store().map_err(|e| anyhow::anyhow!(e.message))?;
        let kept = (
            store.get(&d.name, CLIENT_KEY_ENTRY)?,
            ca.get("ClientCertificate").cloned(),
        );
        if let (Some(key), Some(cert)) = kept
            && crate::ca::issued_by(&cert, &ca_pem).unwrap_or(false)
        {
            return Ok((cert, key, ca_pem));
        }
        let (key, csr) = crate::ca::client_key_and_csr(&format!("xwizard {} client", d.name))?;
        let cert = self
            .sign_client_csr(&csr)
            .await
            .map_err(|e| anyhow::anyhow!("{} ({})", e.message, e.next))?;
        store.put(&d.name, CLIENT_KEY_ENTRY, &key)?;
        self.change(|d| {
            d.step_mut("ca")
                .outputs
                .insert("ClientCertificate".into(), cert.clone());
        })?;
        Ok((cert, key, ca_pem))
    }
}
