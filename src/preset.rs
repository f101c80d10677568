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
}

/// The preset `xwizard sandbox` runs with.
pub const SANDBOX: &str = include_str!("../profiles/sandbox.toml");

impl Preset {
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
    }

    #[test]
    fn a_misspelt_key_is_named() {
        let err = Preset::parse("pattren = \"vpc-endpoint\"", "x.toml").unwrap_err();
        assert!(format!("{err:#}").contains("pattren"), "{err:#}");
    }
}
