//! Presets: the answers of a run in a TOML file (`profiles/*.toml`), for workshops and CI.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

use crate::plan::Pattern;

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub pattern: Option<Pattern>,
    pub region: Option<String>,
    pub producer_profile: Option<String>,
    pub consumer_profile: Option<String>,
    pub name: Option<String>,
    pub allow_same_account: Option<bool>,
    /// A command whose output is the one-time code of the MFA device a profile's role needs
    /// (e.g. `oathtool --totp -b "$(cat ~/.mfa-key)"`), run with `sh -c` when a code is
    /// needed: a code lasts 30 seconds, so the preset holds how to get one, not the code.
    pub mfa_code_command: Option<String>,
    // Pattern 2's own answers (`Pattern::settings`): a preset of Pattern 1 ignores them.
    pub domain: Option<String>,
    pub subdomain: Option<String>,
    pub ca: Option<String>,
    pub ca_arn: Option<String>,
    pub ca_certificate_file: Option<String>,
    pub ca_key_file: Option<String>,
    /// Accept the consumer's connection without asking (as `--accept-connection`).
    pub accept_connection: Option<bool>,
    /// Keep private keys in 0600 files when no OS keyring is usable (as `--key-files`).
    pub key_files: Option<bool>,
}

/// The preset `xwizard sandbox` runs with.
pub const SANDBOX: &str = include_str!("../profiles/sandbox.toml");

impl Preset {
    /// A pattern setting's value, by its key (`Setting::key`).
    pub fn setting(&self, key: &str) -> Option<&String> {
        match key {
            "domain" => self.domain.as_ref(),
            "subdomain" => self.subdomain.as_ref(),
            "ca" => self.ca.as_ref(),
            "ca_arn" => self.ca_arn.as_ref(),
            "ca_certificate_file" => self.ca_certificate_file.as_ref(),
            "ca_key_file" => self.ca_key_file.as_ref(),
            _ => None,
        }
    }

    pub fn setting_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        match key {
            "domain" => Some(&mut self.domain),
            "subdomain" => Some(&mut self.subdomain),
            "ca" => Some(&mut self.ca),
            "ca_arn" => Some(&mut self.ca_arn),
            "ca_certificate_file" => Some(&mut self.ca_certificate_file),
            "ca_key_file" => Some(&mut self.ca_key_file),
            _ => None,
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).with_context(|| format!("{origin} is not a valid preset"))
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the preset {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_presets_parse() {
        let sandbox = Preset::parse(SANDBOX, "sandbox").unwrap();
        assert_eq!(
            sandbox.producer_profile.as_deref(),
            Some("sandbox-producer")
        );
        for (name, text) in [
            ("example", include_str!("../profiles/example.toml")),
            ("workshop", include_str!("../profiles/workshop.toml")),
        ] {
            let preset = Preset::parse(text, name).unwrap();
            assert_eq!(preset.pattern, Some(Pattern::VpcEndpoint), "{name}");
        }
        let mtls = Preset::parse(include_str!("../profiles/mtls-example.toml"), "mtls").unwrap();
        assert_eq!(mtls.pattern, Some(Pattern::MtlsPrivateLink));
        // Every answer it gives is one the pattern accepts.
        for setting in Pattern::MtlsPrivateLink.settings() {
            if let Some(value) = mtls.setting(setting.key) {
                setting.check(value).unwrap();
            }
        }
    }

    #[test]
    fn every_pattern_setting_has_a_preset_key() {
        let mut preset = Preset::default();
        for pattern in Pattern::ALL {
            for setting in pattern.settings() {
                *preset.setting_mut(setting.key).expect(setting.key) = Some("x".into());
                assert_eq!(preset.setting(setting.key).map(String::as_str), Some("x"));
            }
        }
    }

    #[test]
    fn a_misspelt_key_is_named() {
        let err = Preset::parse("pattren = \"vpc-endpoint\"", "x.toml").unwrap_err();
        assert!(format!("{err:#}").contains("pattren"), "{err:#}");
    }
}
