//! Reading PEM text that a user may have got wrong: the blocks it holds, and a sentence for
//! each way it can be wrong (empty, a placeholder, the other file of the pair, several
//! certificates where one is meant).

use x509_parser::pem::Pem;

use super::CaError;

/// Every PEM block in `text`, in order. `what` names the input in errors ("the CA
/// certificate", "the CSR").
pub(crate) fn blocks(what: &'static str, text: &str) -> Result<Vec<Pem>, CaError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CaError::Pem {
            what,
            why: "it is empty".into(),
        });
    }
    if !trimmed.contains("-----BEGIN ") {
        return Err(CaError::Pem {
            what,
            why: "it holds no PEM block (no \"-----BEGIN ...-----\" line): is it a \
                  placeholder, or in DER form? (`openssl x509 -inform der` converts DER)"
                .into(),
        });
    }
    let mut found = Vec::new();
    for block in Pem::iter_from_buffer(trimmed.as_bytes()) {
        match block {
            Ok(pem) => found.push(pem),
            Err(e) => {
                return Err(CaError::Pem {
                    what,
                    why: format!(
                        "PEM block {} is damaged ({e}): copy it again from its source",
                        found.len() + 1
                    ),
                });
            }
        }
    }
    if found.is_empty() {
        return Err(CaError::Pem {
            what,
            why: "it holds no complete PEM block".into(),
        });
    }
    Ok(found)
}

/// A PEM block of `der` under `label`, base64 in 64-character lines as OpenSSL writes it.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = aws_smithy_types::base64::encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 is ASCII: every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The labels a private key is found under.
pub(crate) fn is_key_label(label: &str) -> bool {
    matches!(label, "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY")
}

/// What a block under `label` is, for an error that found it where something else was meant.
pub(crate) fn describe_label(label: &str) -> String {
    match label {
        "CERTIFICATE" => "a certificate".into(),
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
            "a certificate signing request (CSR)".into()
        }
        "ENCRYPTED PRIVATE KEY" => "an encrypted private key".into(),
        l if is_key_label(l) => "a private key".into(),
        "PUBLIC KEY" => "a public key".into(),
        other => format!("a \"{other}\" block"),
    }
}
