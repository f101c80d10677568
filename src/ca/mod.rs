//! Certificates made on this machine with rcgen: a local certificate authority (made here, or
//! brought by the user), the client certificates it signs, and the client keys xwizard makes
//! for itself. No AWS here (`aws::pca` is the AWS Private CA).
//!
//! What the certificates look like, and why:
//! - A CA made here is an EC P-256 self-signed root: basicConstraints CA:TRUE (critical,
//!   path length 0: it signs client certificates, never other CAs), keyUsage keyCertSign +
//!   cRLSign, a random serial.
//! - A client certificate is what an ALB in mTLS verify mode accepts and nothing more:
//!   CA:FALSE, keyUsage digitalSignature, extendedKeyUsage clientAuth only, the subject the
//!   CSR asked for, the issuer the CA's subject, an authority key identifier, a random serial.
//!   Whatever extensions the CSR requests are ignored (a CSR asking for CA:TRUE gets a leaf);
//!   its validity never outlasts the CA's.
//! - Every PEM this module writes holds one certificate per block and nothing else.
//!
//! A certificate brought by the user is refused, with the reason and what to do, when it is
//! not a CA, has expired or is not yet valid, does not match its key, comes with several
//! others in one file, or is not a certificate at all. A keyUsage extension that lacks
//! keyCertSign is refused; a CA certificate with no keyUsage at all is accepted, as RFC 5280
//! allows and as `openssl req -x509` makes them by default.
//!
//! Private keys (`LocalCa::key_pem`, `client_key_and_csr`) are secrets: never in `Debug`,
//! never logged; callers keep them in `keys::KeyStore`.

mod facts;
mod files;
mod pem;

use std::fmt;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
    SubjectPublicKeyInfo,
};
use time::{Duration, OffsetDateTime};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

pub use facts::{CertFacts, certificate_facts, issued_by};
pub use files::write_client_files;

/// Longest common name accepted (X.509's upper bound, and AWS Private CA's).
pub const MAX_COMMON_NAME: usize = 64;

/// How far back a new certificate's validity starts: a machine whose clock is a little
/// behind must not find it "not yet valid".
const BACKDATE: Duration = Duration::minutes(5);

/// The longest validity accepted, in days (100 years): beyond it the date arithmetic, not the
/// user, is what would be tested.
pub const MAX_VALIDITY_DAYS: u32 = 36_500;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// Not PEM, not the expected kind of block, a damaged block.
    #[error("{what} cannot be used: {why}")]
    Pem { what: &'static str, why: String },
    /// A file that should hold one certificate holds several.
    #[error(
        "the CA certificate file holds {count} certificates ({list}); keep only the CA \
         certificate that signs the client certificates in it (the one marked CA whose key \
         you have)"
    )]
    SeveralCertificates { count: usize, list: String },
    /// The certificate cannot sign certificates.
    #[error("the certificate is not a certificate authority: {why}")]
    NotACa { why: String },
    #[error("the CA certificate expired on {not_after}: renew it (or make a new CA) and run again")]
    Expired { not_after: String },
    #[error("the CA certificate is not valid before {not_before}: check this machine's clock")]
    NotYetValid { not_before: String },
    #[error(
        "the private key does not belong to the CA certificate (their public keys differ): \
         check that the two files are a pair"
    )]
    KeyMismatch,
    /// A key that cannot be read or used for signing.
    #[error("the private key cannot be used: {why}")]
    UnusableKey { why: String },
    #[error("the certificate signing request (CSR) cannot be used: {why}")]
    BadCsr { why: String },
    #[error("the common name {name:?} cannot be used: {why}")]
    BadCommonName { name: String, why: &'static str },
    #[error("a validity of {days} days cannot be used: {why}")]
    BadValidity { days: u32, why: &'static str },
    #[error("cannot make the certificate: {why}")]
    Signing { why: String },
    #[error("cannot write {path}: {why}")]
    Write {
        path: std::path::PathBuf,
        why: String,
    },
}

pub type Result<T> = std::result::Result<T, CaError>;

/// A certificate authority whose private key is on this machine.
pub struct LocalCa {
    cert_der: Vec<u8>,
    cert_pem: String,
    key: KeyPair,
    key_pem: String,
    facts: CertFacts,
}

impl fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCa")
            .field("subject", &self.facts.subject)
            .field("not_after", &self.facts.not_after)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl LocalCa {
    /// A new EC P-256 self-signed root named `common_name`, valid for `validity_days`.
    pub fn new(common_name: &str, validity_days: u32) -> Result<LocalCa> {
        check_common_name(common_name)?;
        let now = OffsetDateTime::now_utc();
        let not_after = now + validity(validity_days)?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(signing)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = common_name_dn(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now - BACKDATE;
        params.not_after = not_after;
        params.serial_number = Some(random_serial()?);
        let cert = params.self_signed(&key).map_err(signing)?;
        let key_pem = key.serialize_pem();
        LocalCa::assemble(cert.der().to_vec(), key, key_pem)
    }

    /// A CA the user brings: the certificate and its private key, PEM (PKCS#8, SEC1 or PKCS#1
    /// key; EC P-256/P-384, RSA or Ed25519). Refused with the reason and what to do when it
    /// cannot sign client certificates that an ALB would accept.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<LocalCa> {
        let cert_der = single_ca_certificate(cert_pem)?;
        let cert = facts::parse("the CA certificate", &cert_der)?;
        check_is_ca(&cert)?;
        check_valid_now(&cert)?;
        let (key, key_pem) = read_key(key_pem)?;
        let cert_key = &cert.public_key().subject_public_key.data;
        if rcgen::PublicKeyData::der_bytes(&key) != cert_key.as_ref() {
            return Err(CaError::KeyMismatch);
        }
        LocalCa::assemble(cert_der, key, key_pem)
    }

    fn assemble(cert_der: Vec<u8>, key: KeyPair, key_pem: String) -> Result<LocalCa> {
        let cert = facts::parse("the CA certificate", &cert_der)?;
        let facts = facts::facts_of(&cert, &cert_der);
        check_names_have_values(&cert)?;
        // Signing needs the CA's name back from the certificate: find now, not at the first
        // client, a name rcgen cannot rebuild.
        Issuer::from_ca_cert_der(&cert_der.as_slice().into(), &key).map_err(|e| {
            CaError::NotACa {
                why: format!("its subject or extensions cannot be read back for signing ({e})"),
            }
        })?;
        let cert_pem = pem::encode("CERTIFICATE", &cert_der);
        Ok(LocalCa {
            cert_der,
            cert_pem,
            key,
            key_pem,
            facts,
        })
    }

    /// The CA certificate: one PEM block.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's private key, PEM. A secret: store it (`keys::KeyStore`), never show it.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    pub fn facts(&self) -> &CertFacts {
        &self.facts
    }

    /// Checks `csr_pem`'s signature and issues a client certificate for its subject and
    /// public key, valid for `validity_days` (never past the CA's own end): one PEM block.
    pub fn sign_client_csr(&self, csr_pem: &str, validity_days: u32) -> Result<String> {
        let (subject, spki) = read_csr(csr_pem)?;
        let now = OffsetDateTime::now_utc();
        let ca = facts::parse("the CA certificate", &self.cert_der)?;
        let ca_end = ca.validity().not_after.to_datetime();
        if ca_end <= now {
            return Err(CaError::Expired {
                not_after: facts::rfc3339(ca_end),
            });
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = subject;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        params.not_before = now - BACKDATE;
        params.not_after = (now + validity(validity_days)?).min(ca_end);
        let issuer = Issuer::from_ca_cert_der(&self.cert_der.as_slice().into(), &self.key)
            .map_err(signing)?;
        let cert = params.signed_by(&spki, &issuer).map_err(signing)?;
        Ok(pem::encode("CERTIFICATE", cert.der()))
    }
}

/// A new EC P-256 key and a CSR for `common_name` signed with it: (key PEM, CSR PEM). The key
/// is a secret.
pub fn client_key_and_csr(common_name: &str) -> Result<(String, String)> {
    check_common_name(common_name)?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(signing)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name_dn(common_name);
    let csr = params.serialize_request(&key).map_err(signing)?;
    let csr_pem = csr.pem().map_err(signing)?;
    Ok((key.serialize_pem(), csr_pem))
}

fn signing(e: rcgen::Error) -> CaError {
    CaError::Signing { why: e.to_string() }
}

fn check_common_name(name: &str) -> Result<()> {
    let bad = |why| {
        Err(CaError::BadCommonName {
            name: name.to_string(),
            why,
        })
    };
    if name.trim().is_empty() {
        return bad("it is empty");
    }
    if name.trim() != name {
        return bad("it starts or ends with a space");
    }
    if name.chars().count() > MAX_COMMON_NAME {
        return bad("it is longer than 64 characters");
    }
    if name.chars().any(char::is_control) {
        return bad("it holds a control character");
    }
    Ok(())
}

fn common_name_dn(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, DnValue::Utf8String(name.to_string()));
    dn
}

fn validity(days: u32) -> Result<Duration> {
    if days == 0 {
        return Err(CaError::BadValidity {
            days,
            why: "it must be at least one day",
        });
    }
    if days > MAX_VALIDITY_DAYS {
        return Err(CaError::BadValidity {
            days,
            why: "it is more than 100 years",
        });
    }
    Ok(Duration::days(i64::from(days)))
}

/// 16 random bytes, positive and without a leading zero byte (so always 16 bytes long, well
/// within RFC 5280's 20).
fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| CaError::Signing {
        why: "the system's random number generator failed".into(),
    })?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The DER of the only CERTIFICATE block in `text`.
fn single_ca_certificate(text: &str) -> Result<Vec<u8>> {
    let what = "the CA certificate";
    let blocks = pem::blocks(what, text)?;
    let certs: Vec<_> = blocks.iter().filter(|b| b.label == "CERTIFICATE").collect();
    match certs.len() {
        0 => {
            let found = pem::describe_label(&blocks[0].label);
            let hint = if pem::is_key_label(&blocks[0].label) {
                ": are the certificate and key files swapped?"
            } else {
                ""
            };
            Err(CaError::Pem {
                what,
                why: format!("it holds {found}, not a certificate{hint}"),
            })
        }
        1 => {
            if blocks.iter().any(|b| pem::is_key_label(&b.label)) {
                // Not an error to use, but the user should know the key sits beside it.
                tracing::debug!("the CA certificate file also holds a private key");
            }
            Ok(certs[0].contents.clone())
        }
        count => {
            let list = certs
                .iter()
                .enumerate()
                .map(|(i, b)| match facts::parse(what, &b.contents) {
                    Ok(c) => format!(
                        "#{}: {}{}",
                        i + 1,
                        c.subject(),
                        if facts::is_ca(&c) { " (CA)" } else { "" }
                    ),
                    Err(_) => format!("#{}: unreadable", i + 1),
                })
                .collect::<Vec<_>>()
                .join("; ");
            Err(CaError::SeveralCertificates { count, list })
        }
    }
}

fn check_is_ca(cert: &x509_parser::certificate::X509Certificate<'_>) -> Result<()> {
    match cert.basic_constraints() {
        Err(e) => {
            return Err(CaError::NotACa {
                why: format!("its basicConstraints extension cannot be read ({e})"),
            });
        }
        Ok(None) => {
            return Err(CaError::NotACa {
                why: "it has no basicConstraints extension with CA:TRUE (is it a client or \
                      server certificate rather than the CA's?)"
                    .into(),
            });
        }
        Ok(Some(bc)) if !bc.value.ca => {
            return Err(CaError::NotACa {
                why: "its basicConstraints say CA:FALSE (is it a client or server certificate \
                      rather than the CA's?)"
                    .into(),
            });
        }
        Ok(Some(_)) => {}
    }
    match cert.key_usage() {
        Err(e) => Err(CaError::NotACa {
            why: format!("its keyUsage extension cannot be read ({e})"),
        }),
        Ok(Some(ku)) if !ku.value.key_cert_sign() => Err(CaError::NotACa {
            why: "its keyUsage does not allow keyCertSign (signing certificates)".into(),
        }),
        Ok(_) => Ok(()),
    }
}

fn check_valid_now(cert: &x509_parser::certificate::X509Certificate<'_>) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let validity = cert.validity();
    let not_after = validity.not_after.to_datetime();
    if not_after <= now {
        return Err(CaError::Expired {
            not_after: facts::rfc3339(not_after),
        });
    }
    let not_before = validity.not_before.to_datetime();
    if not_before > now {
        return Err(CaError::NotYetValid {
            not_before: facts::rfc3339(not_before),
        });
    }
    Ok(())
}

/// rcgen rebuilds names attribute by attribute and cannot take an empty RDN; refuse one
/// here, with words, rather than meet it while signing.
fn check_names_have_values(cert: &x509_parser::certificate::X509Certificate<'_>) -> Result<()> {
    if cert.subject().iter().any(|rdn| rdn.iter().next().is_none()) {
        return Err(CaError::NotACa {
            why: "its subject name has an empty component".into(),
        });
    }
    Ok(())
}

/// The key in `text` and its PEM as it will be stored (PKCS#8 re-encoded as read; SEC1 and
/// PKCS#1 kept under their own labels).
fn read_key(text: &str) -> Result<(KeyPair, String)> {
    let what = "the CA private key";
    let blocks = pem::blocks(what, text)?;
    if blocks.iter().any(|b| b.label == "ENCRYPTED PRIVATE KEY") {
        return Err(CaError::UnusableKey {
            why: "it is encrypted with a passphrase; write a decrypted copy with `openssl pkey \
                  -in KEY -out PLAIN_KEY` and give that (xwizard keeps it in the OS keyring)"
                .into(),
        });
    }
    let keys: Vec<_> = blocks
        .iter()
        .filter(|b| pem::is_key_label(&b.label))
        .collect();
    let block = match keys.as_slice() {
        [one] => *one,
        [] => {
            let found = pem::describe_label(&blocks[0].label);
            let hint = if blocks[0].label == "CERTIFICATE" {
                ": are the certificate and key files swapped?"
            } else {
                ""
            };
            return Err(CaError::UnusableKey {
                why: format!("the file holds {found}, not a private key{hint}"),
            });
        }
        several => {
            return Err(CaError::UnusableKey {
                why: format!(
                    "the file holds {} private keys; keep only the CA's",
                    several.len()
                ),
            });
        }
    };
    let key = KeyPair::try_from(block.contents.as_slice()).map_err(|e| CaError::UnusableKey {
        why: format!(
            "it is not a key xwizard can sign with (EC P-256 or P-384, RSA, Ed25519; \
             unencrypted PKCS#8, SEC1 or PKCS#1): {e}"
        ),
    })?;
    Ok((key, pem::encode(&block.label, &block.contents)))
}

/// The CSR's subject and public key, after checking its signature: the CSR must have been
/// signed by the key it carries.
fn read_csr(text: &str) -> Result<(DistinguishedName, SubjectPublicKeyInfo)> {
    let bad = |why: String| CaError::BadCsr { why };
    let blocks = pem::blocks("the certificate signing request (CSR)", text)?;
    let requests: Vec<_> = blocks
        .iter()
        .filter(|b| {
            matches!(
                b.label.as_str(),
                "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST"
            )
        })
        .collect();
    let block = match requests.as_slice() {
        [one] => *one,
        [] => {
            return Err(bad(format!(
                "it holds {}, not a CSR (\"-----BEGIN CERTIFICATE REQUEST-----\")",
                pem::describe_label(&blocks[0].label)
            )));
        }
        several => return Err(bad(format!("it holds {} CSRs; give one", several.len()))),
    };
    let csr = match X509CertificationRequest::from_der(&block.contents) {
        Ok((_, csr)) => csr,
        Err(e) => return Err(bad(format!("it is not a valid PKCS#10 request ({e})"))),
    };
    csr.verify_signature().map_err(|_| {
        bad(
            "its signature does not verify with the public key it carries (damaged or edited)"
                .into(),
        )
    })?;
    let info = &csr.certification_request_info;
    let subject = dn_from_x509(&info.subject).map_err(bad)?;
    let spki = SubjectPublicKeyInfo::from_der(info.subject_pki.raw).map_err(|e| {
        bad(format!(
            "its public key is of a kind xwizard cannot certify ({e})"
        ))
    })?;
    Ok((subject, spki))
}

/// An rcgen name with the same attributes, in the same order and string types, as `name`.
fn dn_from_x509(
    name: &x509_parser::x509::X509Name<'_>,
) -> std::result::Result<DistinguishedName, String> {
    use x509_parser::der_parser::asn1_rs::Tag;
    let mut dn = DistinguishedName::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err("its subject has a multi-valued or empty name component".into());
        };
        let oid: Vec<u64> = match attr.attr_type().iter() {
            Some(arcs) => arcs.collect(),
            None => return Err("its subject has an attribute type that cannot be read".into()),
        };
        let value = attr.attr_value();
        let text = || {
            std::str::from_utf8(value.data)
                .map(str::to_string)
                .map_err(|_| "its subject has a value that is not valid text".to_string())
        };
        let dn_value = match value.header.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?),
            Tag::PrintableString => DnValue::PrintableString(
                text()?
                    .try_into()
                    .map_err(|_| "its subject has an invalid PrintableString".to_string())?,
            ),
            Tag::Ia5String => DnValue::Ia5String(
                text()?
                    .try_into()
                    .map_err(|_| "its subject has an invalid IA5String".to_string())?,
            ),
            Tag::BmpString => DnValue::BmpString(
                rcgen::string::BmpString::from_utf16be(value.data.to_vec())
                    .map_err(|_| "its subject has an invalid BMPString".to_string())?,
            ),
            Tag::UniversalString => DnValue::UniversalString(
                rcgen::string::UniversalString::from_utf32be(value.data.to_vec())
                    .map_err(|_| "its subject has an invalid UniversalString".to_string())?,
            ),
            _ => return Err("its subject has a value of a string type xwizard cannot copy".into()),
        };
        dn.push(DnType::from_oid(&oid), dn_value);
    }
    if dn.iter().next().is_none() {
        return Err("its subject is empty: give the CSR a subject (e.g. `-subj /CN=NAME`)".into());
    }
    Ok(dn)
}
