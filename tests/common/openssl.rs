//! The machine's openssl, where it is installed: it checks certificates the way a TLS server
//! checks a client.

use std::path::Path;
use std::process::Command;

pub fn available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs openssl in `dir`; (success, stdout + stderr).
pub fn run(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `openssl verify` of the client certificate in `cert_file` against the CA in `ca_file`, for
/// TLS client use, both in `dir`.
pub fn verify_client(dir: &Path, ca_file: &str, cert_file: &str) -> (bool, String) {
    run(
        dir,
        &[
            "verify",
            "-CAfile",
            ca_file,
            "-purpose",
            "sslclient",
            cert_file,
        ],
    )
}
