//! What a certificate says, read with x509-parser: for showing it to the user and for checks.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::{CaError, pem};

/// The facts of one certificate a user cares about. Times are RFC 3339 in UTC.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertFacts {
    /// Distinguished name, OpenSSL's one-line form (`CN=demo, O=xwizard`).
    pub subject: String,
    pub issuer: String,
    /// Hex, colon-separated.
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// basicConstraints CA:TRUE.
    pub is_ca: bool,
    /// The extended key usage includes TLS client authentication.
    pub client_auth: bool,
    /// SHA-256 of the DER, hex, colon-separated (what `openssl x509 -fingerprint -sha256`
    /// prints), to compare a certificate across places.
    pub sha256: String,
}

/// The facts of the first certificate in `pem_text`.
pub fn certificate_facts(pem_text: &str) -> Result<CertFacts, CaError> {
    let der = first_certificate("the certificate", pem_text)?;
    let cert = parse("the certificate", &der)?;
    Ok(facts_of(&cert, &der))
}

/// Whether the first certificate in `cert_pem` was issued by the first one in `ca_pem`: its
/// issuer is the CA's subject and its signature verifies with the CA's public key.
pub fn issued_by(cert_pem: &str, ca_pem: &str) -> Result<bool, CaError> {
    let cert_der = first_certificate("the certificate", cert_pem)?;
    let ca_der = first_certificate("the CA certificate", ca_pem)?;
    let cert = parse("the certificate", &cert_der)?;
    let ca = parse("the CA certificate", &ca_der)?;
    if cert.issuer().as_raw() != ca.subject().as_raw()
        && cert.issuer().to_string() != ca.subject().to_string()
    {
        return Ok(false);
    }
    Ok(cert.verify_signature(Some(ca.public_key())).is_ok())
}

pub(crate) fn facts_of(cert: &X509Certificate<'_>, der: &[u8]) -> CertFacts {
    use sha2::Digest;
    let client_auth = cert
        .extended_key_usage()
        .ok()
        .flatten()
        .is_some_and(|eku| eku.value.client_auth);
    CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: rfc3339(cert.validity().not_before.to_datetime()),
        not_after: rfc3339(cert.validity().not_after.to_datetime()),
        is_ca: is_ca(cert),
        client_auth,
        sha256: colon_hex(&sha2::Sha256::digest(der)),
    }
}

/// basicConstraints present, valid and CA:TRUE.
pub(crate) fn is_ca(cert: &X509Certificate<'_>) -> bool {
    cert.basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca)
}

/// The DER of the first CERTIFICATE block; any other kind of block first is an error that
/// says what it is.
pub(crate) fn first_certificate(what: &'static str, text: &str) -> Result<Vec<u8>, CaError> {
    let blocks = pem::blocks(what, text)?;
    match blocks.into_iter().find(|b| b.label == "CERTIFICATE") {
        Some(block) => Ok(block.contents),
        None => Err(CaError::Pem {
            what,
            why: "it holds no certificate block (\"-----BEGIN CERTIFICATE-----\")".into(),
        }),
    }
}

pub(crate) fn parse<'a>(what: &'static str, der: &'a [u8]) -> Result<X509Certificate<'a>, CaError> {
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(CaError::Pem {
            what,
            why: format!("its certificate block is not a valid X.509 certificate ({e})"),
        }),
    }
}

/// `2036-11-25T10:00:00Z`.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
