//! The private AWS config + credentials pair that points two profiles at the emulator.
//!
//! Written beside the running sandbox, never to `~/.aws`: a user's own profiles stay untouched.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::process::ReadyInfo;

/// The role in each sandbox account that only an MFA session may assume, and the user's
/// MFA device (assets/sandbox/sts_mfa.py).
pub const MFA_ROLE: &str = "xwizard-sandbox-mfa";
pub const MFA_DEVICE: &str = "xwizard-sandbox";

/// Profile name for each of the emulator's roles.
pub fn profile_for(role: &str) -> String {
    format!("sandbox-{role}")
}

#[derive(Debug, Clone)]
pub struct ProfileFiles {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl ProfileFiles {
    pub fn in_dir(run_dir: &Path) -> Self {
        Self {
            config: run_dir.join("aws").join("config"),
            credentials: run_dir.join("aws").join("credentials"),
        }
    }
}

pub fn write(run_dir: &Path, info: &ReadyInfo, region: &str) -> Result<ProfileFiles> {
    let files = ProfileFiles::in_dir(run_dir);
    let mut config =
        String::from("# Written by `xwizard sandbox up`: profiles of the local sandbox.\n");
    let mut credentials =
        String::from("# Sandbox-only keys: they open nothing outside the local emulator.\n");
    for (role, keys) in &info.accounts {
        let profile = profile_for(role);
        let _ = write!(
            config,
            "\n[profile {profile}]\n# {role} account {}\nregion = {region}\nendpoint_url = {}\noutput = json\n",
            keys.account_id, info.endpoint_url
        );
        // The same account through a role only an MFA session may assume (the emulator's
        // sts_mfa.py makes it, and takes any 6 digits as the code): a rehearsal of
        // `mfa_serial` profiles.
        let _ = write!(
            config,
            "\n[profile {profile}-mfa]\n# {role} account {}, as a role that needs an MFA code \
             (any 6 digits here)\nregion = {region}\nendpoint_url = {}\noutput = json\n\
             role_arn = arn:aws:iam::{}:role/{MFA_ROLE}\nsource_profile = {profile}\n\
             mfa_serial = arn:aws:iam::{}:mfa/{MFA_DEVICE}\n",
            keys.account_id, info.endpoint_url, keys.account_id, keys.account_id
        );
        let _ = write!(
            credentials,
            "\n[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            keys.aws_access_key_id, keys.aws_secret_access_key
        );
    }
    write_private(&files.config, &config)?;
    write_private(&files.credentials, &credentials)?;
    Ok(files)
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
