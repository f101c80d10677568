//! The emulator extension's files, embedded in the binary and written out before a start.
//!
//! They are written to a directory named after a hash of their contents, so two versions of
//! xwizard never run each other's emulator code, and an unchanged set is written only once.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../assets/sandbox/", $name)))),*]
    };
}

/// Every Python module the emulator imports.
pub const FILES: &[(&str, &str)] = embed!(
    "emulator.py",
    "accounts.py",
    "acm_pca.py",
    "action_log.py",
    "apigateway_private_domains.py",
    "async_cloudformation.py",
    "cfn_intrinsics.py",
    "cfn_parameters.py",
    "cfn_resource_types.py",
    "change_set_details.py",
    "control_api.py",
    "data_plane.py",
    "fault_injection.py",
    "first_use.py",
    "function_workers.py",
    "iam_managed_policies.py",
    "lambda_runtime.py",
    "mtls_data_plane.py",
    "privatelink.py",
    "s3_bucket_policies.py",
    "sandbox_domain.py",
    "secrets_cross_account.py",
    "secrets_rotation.py",
    "security_group_rules.py",
    "ssm_run_command.py",
    "stale_reads.py",
    "sts_mfa.py",
);

/// Pinned, hash-checked requirements of the emulator's virtualenv.
pub const REQUIREMENTS: &str = include_str!("../../assets/sandbox/requirements.txt");

fn short_hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..6])
}

/// A short id of the requirements, naming the virtualenv made from them.
pub fn requirements_id() -> String {
    short_hash([REQUIREMENTS])
}

/// Writes the emulator's files under `root` (once per content) and returns their directory.
pub fn materialize(root: &Path) -> Result<PathBuf> {
    let id = short_hash(FILES.iter().flat_map(|(n, c)| [*n, *c]));
    let dir = root.join(format!("emulator-{id}"));
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, content) in FILES {
        std::fs::write(dir.join(name), content)
            .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
    }
    std::fs::write(dir.join(".complete"), id)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_of_the_emulator_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sandbox");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            if name.ends_with(".py") {
                assert!(
                    FILES.iter().any(|(f, _)| *f == name),
                    "{name} is not embedded"
                );
            }
        }
    }
}
