//! The local certificate authority: what its certificates say (read back with x509-parser and,
//! where it is installed, checked by `openssl verify` the way a TLS server checks a client),
//! the reasons a brought CA is refused, and the client files it writes.

mod common;

use std::path::Path;

use common::openssl::{self, run as openssl, verify_client};
use proptest::prelude::*;
use xwizard::ca::{self, CaError, LocalCa};

fn openssl_available() -> bool {
    openssl::available()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn a_new_ca_is_a_p256_root_that_signs_certificates() {
    let ca = LocalCa::new("xwizard demo CA", 3650).unwrap();
    let facts = ca.facts();
    assert_eq!(facts.subject, "CN=xwizard demo CA");
    assert_eq!(facts.issuer, facts.subject, "self-signed");
    assert!(facts.is_ca);
    assert!(!facts.client_auth);
    assert_eq!(ca::certificate_facts(ca.cert_pem()).unwrap(), *facts);
    assert!(ca::issued_by(ca.cert_pem(), ca.cert_pem()).unwrap());
    assert_eq!(
        ca.cert_pem().matches("-----BEGIN CERTIFICATE-----").count(),
        1
    );
    assert!(ca.key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));

    if !openssl_available() {
        eprintln!("openssl is not installed: the certificate was checked with x509-parser only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ca.pem", ca.cert_pem());
    let (ok, text) = openssl(dir.path(), &["x509", "-in", "ca.pem", "-noout", "-text"]);
    assert!(ok, "{text}");
    assert!(text.contains("ASN1 OID: prime256v1"), "{text}");
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
    assert!(
        text.contains("X509v3 Basic Constraints: critical\n                CA:TRUE"),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
        "{text}"
    );
    // A root verifies against itself.
    let (ok, text) = openssl(dir.path(), &["verify", "-CAfile", "ca.pem", "ca.pem"]);
    assert!(ok, "{text}");
}

#[test]
fn a_signed_client_certificate_is_for_client_auth_only_and_chains_to_the_ca() {
    let ca = LocalCa::new("xwizard test CA", 365).unwrap();
    let (key_pem, csr_pem) = ca::client_key_and_csr("consumer-instance").unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let cert = ca.sign_client_csr(&csr_pem, 30).unwrap();
    assert_eq!(cert.matches("-----BEGIN CERTIFICATE-----").count(), 1);
    let facts = ca::certificate_facts(&cert).unwrap();
    assert_eq!(facts.subject, "CN=consumer-instance");
    assert_eq!(facts.issuer, ca.facts().subject);
    assert!(!facts.is_ca);
    assert!(facts.client_auth);
    assert!(ca::issued_by(&cert, ca.cert_pem()).unwrap());
    let other = LocalCa::new("another CA", 365).unwrap();
    assert!(!ca::issued_by(&cert, other.cert_pem()).unwrap());

    // Serials are random: the same CSR signed twice gives two serials.
    let again = ca::certificate_facts(&ca.sign_client_csr(&csr_pem, 30).unwrap()).unwrap();
    assert_ne!(facts.serial, again.serial);

    if !openssl_available() {
        eprintln!("openssl is not installed: the chain was checked with x509-parser only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ca.pem", ca.cert_pem());
    write(dir.path(), "client.pem", &cert);
    write(dir.path(), "other.pem", other.cert_pem());
    let (ok, text) = verify_client(dir.path(), "ca.pem", "client.pem");
    assert!(ok, "openssl verify refused the client certificate: {text}");
    let (ok, text) = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            "ca.pem",
            "-purpose",
            "sslserver",
            "client.pem",
        ],
    );
    assert!(
        !ok,
        "a client certificate must not pass as a server's: {text}"
    );
    let (ok, _) = openssl(
        dir.path(),
        &["verify", "-CAfile", "other.pem", "client.pem"],
    );
    assert!(
        !ok,
        "the certificate verified against a CA that did not sign it"
    );
    let (ok, text) = openssl(
        dir.path(),
        &["x509", "-in", "client.pem", "-noout", "-text"],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("X509v3 Basic Constraints: critical\n                CA:FALSE"),
        "{text}"
    );
    assert!(
        text.contains(
            "X509v3 Extended Key Usage: \n                TLS Web Client Authentication\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Key Usage: critical\n                Digital Signature\n"),
        "{text}"
    );
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
}

#[test]
fn a_csr_made_by_openssl_keeps_its_subject_and_gets_no_ca_powers_it_asks_for() {
    if !openssl_available() {
        eprintln!("openssl is not installed: skipped (CSRs from openssl are what instances send)");
        return;
    }
    let ca = LocalCa::new("xwizard test CA", 365).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "i.key",
            "-out",
            "i.csr",
            "-subj",
            "/O=Example Org/CN=i-0abc123",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "subjectAltName=DNS:client.example.com",
        ],
    );
    assert!(ok, "{text}");
    let cert = ca.sign_client_csr(&read(dir.path(), "i.csr"), 7).unwrap();
    let facts = ca::certificate_facts(&cert).unwrap();
    assert_eq!(facts.subject, "O=Example Org, CN=i-0abc123");
    assert!(!facts.is_ca, "the CSR's request for CA:TRUE was honoured");
    assert!(facts.client_auth);
    write(dir.path(), "ca.pem", ca.cert_pem());
    write(dir.path(), "i.pem", &cert);
    let (ok, text) = verify_client(dir.path(), "ca.pem", "i.pem");
    assert!(ok, "{text}");
    // The certificate holds the key the CSR carried: openssl pairs it with the instance's key.
    let (ok, cert_pub) = openssl(dir.path(), &["x509", "-in", "i.pem", "-noout", "-pubkey"]);
    assert!(ok);
    let (ok, key_pub) = openssl(dir.path(), &["pkey", "-in", "i.key", "-pubout"]);
    assert!(ok);
    assert_eq!(cert_pub, key_pub);

    // An RSA CSR too.
    let (ok, text) = openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "r.key",
            "-out",
            "r.csr",
            "-subj",
            "/CN=rsa-client",
        ],
    );
    assert!(ok, "{text}");
    let cert = ca.sign_client_csr(&read(dir.path(), "r.csr"), 7).unwrap();
    assert_eq!(
        ca::certificate_facts(&cert).unwrap().subject,
        "CN=rsa-client"
    );
}

#[test]
fn a_client_certificate_never_outlives_its_ca() {
    let ca = LocalCa::new("short CA", 10).unwrap();
    let (_, csr) = ca::client_key_and_csr("c").unwrap();
    let cert = ca::certificate_facts(&ca.sign_client_csr(&csr, 365).unwrap()).unwrap();
    assert_eq!(cert.not_after, ca.facts().not_after);
}

#[test]
fn bad_csrs_are_refused_with_the_reason() {
    let ca = LocalCa::new("xwizard test CA", 365).unwrap();
    let (_, csr) = ca::client_key_and_csr("victim").unwrap();

    // One byte of the subject changed after signing: the signature no longer verifies.
    let tampered = csr_with_changed_subject(&csr);
    let err = ca.sign_client_csr(&tampered, 30).unwrap_err();
    assert!(matches!(err, CaError::BadCsr { .. }), "{err}");
    assert!(
        err.to_string().contains("signature does not verify"),
        "{err}"
    );

    let err = ca.sign_client_csr("paste the CSR here", 30).unwrap_err();
    assert!(err.to_string().contains("placeholder"), "{err}");
    let err = ca.sign_client_csr(ca.cert_pem(), 30).unwrap_err();
    assert!(
        err.to_string().contains("holds a certificate, not a CSR"),
        "{err}"
    );
    let err = ca.sign_client_csr(&csr, 0).unwrap_err();
    assert!(matches!(err, CaError::BadValidity { days: 0, .. }), "{err}");
}

/// `csr` with the last letter of its common name changed ("victim" → "victin"), re-encoded.
fn csr_with_changed_subject(csr: &str) -> String {
    let body: String = csr.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut der = aws_smithy_types::base64::decode(&body).unwrap();
    let at = der.windows(6).position(|w| w == b"victim").unwrap();
    der[at + 5] = b'n';
    let b64 = aws_smithy_types::base64::encode(&der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        lines.join("\n")
    )
}

#[test]
fn a_ca_brought_as_pem_signs_like_one_made_here() {
    let made = LocalCa::new("brought CA", 365).unwrap();
    let brought = LocalCa::from_pem(made.cert_pem(), made.key_pem()).unwrap();
    assert_eq!(brought.facts(), made.facts());
    let (_, csr) = ca::client_key_and_csr("client").unwrap();
    let cert = brought.sign_client_csr(&csr, 30).unwrap();
    assert!(ca::issued_by(&cert, made.cert_pem()).unwrap());
    // Its Debug names the CA and hides the key.
    let debug = format!("{brought:?}");
    assert!(debug.contains("brought CA"), "{debug}");
    let key_body = made.key_pem().lines().nth(1).unwrap();
    assert!(!debug.contains(key_body), "{debug}");
    assert!(!format!("{made:?}").contains(key_body));
}

#[test]
fn cas_made_by_openssl_are_accepted_in_their_usual_forms() {
    if !openssl_available() {
        eprintln!("openssl is not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // `openssl req -x509` as most guides show it: EC key in SEC1 form (with its EC PARAMETERS
    // block), no keyUsage extension at all.
    assert!(
        openssl(
            d,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-out",
                "ec.key"
            ]
        )
        .0
    );
    let (ok, text) = openssl(
        d,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ec.key",
            "-days",
            "30",
            "-subj",
            "/CN=ops CA",
            "-out",
            "ec.pem",
        ],
    );
    assert!(ok, "{text}");
    assert!(read(d, "ec.key").contains("EC PRIVATE KEY"));
    let ca = LocalCa::from_pem(&read(d, "ec.pem"), &read(d, "ec.key")).unwrap();
    assert!(ca.key_pem().contains("-----BEGIN EC PRIVATE KEY-----"));
    let (_, csr) = ca::client_key_and_csr("c").unwrap();
    write(d, "c.pem", &ca.sign_client_csr(&csr, 1).unwrap());
    let (ok, text) = verify_client(d, "ec.pem", "c.pem");
    assert!(ok, "{text}");

    // RSA, PKCS#8.
    let (ok, text) = openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-days",
            "30",
            "-subj",
            "/CN=rsa CA",
            "-out",
            "rsa.pem",
        ],
    );
    assert!(ok, "{text}");
    let ca = LocalCa::from_pem(&read(d, "rsa.pem"), &read(d, "rsa.key")).unwrap();
    write(d, "r.pem", &ca.sign_client_csr(&csr, 1).unwrap());
    let (ok, text) = verify_client(d, "rsa.pem", "r.pem");
    assert!(ok, "{text}");
}

#[test]
fn a_brought_ca_is_refused_with_what_is_wrong_and_what_to_do() {
    let good = LocalCa::new("good CA", 365).unwrap();
    let other = LocalCa::new("other CA", 365).unwrap();
    let (client_key, csr) = ca::client_key_and_csr("leaf").unwrap();
    let leaf = good.sign_client_csr(&csr, 30).unwrap();

    let refused = |cert: &str, key: &str| LocalCa::from_pem(cert, key).unwrap_err();

    // Not a CA: a client certificate given as the CA.
    let err = refused(&leaf, &client_key);
    assert!(matches!(err, CaError::NotACa { .. }), "{err}");
    assert!(err.to_string().contains("CA:FALSE"), "{err}");

    // The key of another CA.
    let err = refused(good.cert_pem(), other.key_pem());
    assert!(matches!(err, CaError::KeyMismatch), "{err}");
    assert!(err.to_string().contains("a pair"), "{err}");

    // Several certificates in one file: each is listed, the CA marked.
    let bundle = format!("{}{}", leaf, good.cert_pem());
    let err = refused(&bundle, good.key_pem());
    let CaError::SeveralCertificates { count, list } = &err else {
        panic!("{err}");
    };
    assert_eq!(*count, 2);
    assert_eq!(list, "#1: CN=leaf; #2: CN=good CA (CA)");
    assert!(
        err.to_string().contains("keep only the CA certificate"),
        "{err}"
    );

    // Placeholders, empty files, garbage.
    let err = refused("TODO: put the CA certificate here\n", good.key_pem());
    assert!(err.to_string().contains("placeholder"), "{err}");
    let err = refused("", good.key_pem());
    assert!(err.to_string().contains("empty"), "{err}");
    let err = refused(
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        good.key_pem(),
    );
    assert!(
        err.to_string().contains("not a valid X.509 certificate"),
        "{err}"
    );
    let err = refused(good.cert_pem(), "changeme");
    assert!(matches!(err, CaError::Pem { .. }), "{err}");

    // The two files swapped.
    let err = refused(good.key_pem(), good.cert_pem());
    assert!(err.to_string().contains("swapped"), "{err}");

    // Expired, and not yet valid.
    let (cert, key) = rcgen_ca(-400, -30);
    let err = refused(&cert, &key);
    assert!(matches!(err, CaError::Expired { .. }), "{err}");
    assert!(err.to_string().contains("expired on"), "{err}");
    let (cert, key) = rcgen_ca(30, 400);
    let err = refused(&cert, &key);
    assert!(matches!(err, CaError::NotYetValid { .. }), "{err}");

    // A CA whose keyUsage forbids signing certificates.
    let (cert, key) = rcgen_ca_with_usages(vec![rcgen::KeyUsagePurpose::DigitalSignature]);
    let err = refused(&cert, &key);
    assert!(err.to_string().contains("keyCertSign"), "{err}");
}

#[test]
fn an_encrypted_key_is_refused_with_how_to_decrypt_it() {
    if !openssl_available() {
        eprintln!("openssl is not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, text) = openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "enc.key",
            "-passout",
            "pass:secret",
            "-days",
            "30",
            "-subj",
            "/CN=enc CA",
            "-out",
            "enc.pem",
        ],
    );
    assert!(ok, "{text}");
    let err = LocalCa::from_pem(&read(d, "enc.pem"), &read(d, "enc.key")).unwrap_err();
    assert!(err.to_string().contains("openssl pkey"), "{err}");
}

/// An rcgen CA valid from `start_days` to `end_days` from now.
fn rcgen_ca(start_days: i64, end_days: i64) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(start_days);
    params.not_after = now + time::Duration::days(end_days);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn rcgen_ca_with_usages(usages: Vec<rcgen::KeyUsagePurpose>) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = usages;
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn client_files_keep_the_key_private_and_refuse_to_overwrite() {
    let ca = LocalCa::new("files CA", 365).unwrap();
    let (key, csr) = ca::client_key_and_csr("me").unwrap();
    let cert = ca.sign_client_csr(&csr, 30).unwrap();
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");

    let paths = ca::write_client_files(&out, "me", &cert, &key, ca.cert_pem(), false).unwrap();
    assert_eq!(
        paths,
        vec![out.join("me.pem"), out.join("me.key"), out.join("ca.pem")]
    );
    assert_eq!(std::fs::read_to_string(&paths[0]).unwrap(), cert);
    assert_eq!(std::fs::read_to_string(&paths[1]).unwrap(), key);
    assert_eq!(std::fs::read_to_string(&paths[2]).unwrap(), ca.cert_pem());
    #[cfg(unix)]
    {
        assert_eq!(mode(&out.join("me.key")), 0o600);
        assert_eq!(mode(&out), 0o700, "a directory xwizard made is private");
    }

    // Again: refused, nothing touched.
    let err = ca::write_client_files(&out, "me", "x", "y", ca.cert_pem(), false).unwrap_err();
    assert!(err.to_string().contains("already exist"), "{err}");
    assert!(err.to_string().contains("me.pem"), "{err}");
    assert!(
        !err.to_string().contains("ca.pem"),
        "the same ca.pem is no conflict: {err}"
    );
    assert_eq!(std::fs::read_to_string(&paths[1]).unwrap(), key);

    // A second client beside the first shares the same ca.pem.
    let (key2, csr2) = ca::client_key_and_csr("you").unwrap();
    let cert2 = ca.sign_client_csr(&csr2, 30).unwrap();
    ca::write_client_files(&out, "you", &cert2, &key2, ca.cert_pem(), false).unwrap();

    // A different CA's ca.pem is a conflict.
    let other = LocalCa::new("other CA", 365).unwrap();
    let err =
        ca::write_client_files(&out, "third", &cert2, &key2, other.cert_pem(), false).unwrap_err();
    assert!(err.to_string().contains("ca.pem"), "{err}");
    assert!(
        !out.join("third.key").exists(),
        "nothing is written when one file is taken"
    );

    // Told to overwrite: replaced, and the key is still 0600.
    ca::write_client_files(&out, "me", &cert2, &key2, other.cert_pem(), true).unwrap();
    assert_eq!(std::fs::read_to_string(out.join("me.key")).unwrap(), key2);
    assert_eq!(
        std::fs::read_to_string(out.join("ca.pem")).unwrap(),
        other.cert_pem()
    );
    #[cfg(unix)]
    assert_eq!(mode(&out.join("me.key")), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    for bad in ["../escape", "a/b", "", ".hidden", "ca"] {
        assert!(
            ca::write_client_files(&out, bad, &cert, &key, ca.cert_pem(), true).is_err(),
            "{bad:?} was accepted"
        );
    }
}

#[cfg(unix)]
#[test]
fn the_key_file_is_private_even_under_a_permissive_umask() {
    // The key is created 0600 by open(2) itself, not chmod-ed afterwards: with umask 000 a
    // file created any other way would be world-readable for a moment.
    let ca = LocalCa::new("umask CA", 365).unwrap();
    let (key, csr) = ca::client_key_and_csr("u").unwrap();
    let cert = ca.sign_client_csr(&csr, 30).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: umask only changes this process's file-creation mask.
    let old = unsafe { libc::umask(0) };
    let result = ca::write_client_files(dir.path(), "u", &cert, &key, ca.cert_pem(), false);
    unsafe { libc::umask(old) };
    result.unwrap();
    assert_eq!(mode(&dir.path().join("u.key")), 0o600);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any common name either makes a CA and a client whose certificates carry exactly that
    /// name, or is refused with a reason; never a panic.
    #[test]
    fn any_common_name_is_certified_exactly_or_refused(name in any::<String>()) {
        match LocalCa::new(&name, 30) {
            Ok(ca) => {
                prop_assert_eq!(common_name(ca.cert_pem()), name.clone());
                let (_, csr) = ca::client_key_and_csr(&name).unwrap();
                let cert = ca.sign_client_csr(&csr, 1).unwrap();
                prop_assert_eq!(common_name(&cert), name.clone());
                prop_assert!(ca::issued_by(&cert, ca.cert_pem()).unwrap());
            }
            Err(e) => {
                prop_assert!(matches!(e, CaError::BadCommonName { .. }), "{}", e);
                prop_assert!(ca::client_key_and_csr(&name).is_err());
            }
        }
    }

    #[test]
    fn printable_common_names_within_64_characters_are_accepted(
        name in "[A-Za-z0-9][A-Za-z0-9 ._@-]{0,62}[A-Za-z0-9]"
    ) {
        let ca = LocalCa::new(&name, 30).unwrap();
        prop_assert_eq!(common_name(ca.cert_pem()), name);
    }

    /// Whatever text is given as a certificate, key or CSR, the answer is a result.
    #[test]
    fn garbage_never_panics(text in any::<String>(), der in proptest::collection::vec(any::<u8>(), 0..200)) {
        let b64 = aws_smithy_types::base64::encode(&der);
        let wrapped = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        let csr = format!("-----BEGIN CERTIFICATE REQUEST-----\n{b64}\n-----END CERTIFICATE REQUEST-----\n");
        let key = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
        for input in [&text, &wrapped, &csr, &key] {
            let _ = ca::certificate_facts(input);
            let _ = LocalCa::from_pem(input, input);
            let _ = LocalCa::from_pem(input, &key);
        }
        let ca = shared_ca();
        let _ = ca.sign_client_csr(&text, 1);
        let _ = ca.sign_client_csr(&csr, 1);
    }
}

fn shared_ca() -> &'static LocalCa {
    static CA: std::sync::OnceLock<LocalCa> = std::sync::OnceLock::new();
    CA.get_or_init(|| LocalCa::new("proptest CA", 30).unwrap())
}

/// The certificate's single common name, as x509-parser reads it.
fn common_name(pem: &str) -> String {
    use x509_parser::prelude::FromDer;
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&block.contents).unwrap();
    let cns: Vec<_> = cert.subject().iter_common_name().collect();
    assert_eq!(cns.len(), 1);
    cns[0].as_str().unwrap().to_string()
}
