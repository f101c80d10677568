//! A pattern's own answers (Pattern 2's domain, its certificate authority …), described as data
//! so every front end asks them the same way and one resolver takes them from a flag, a preset
//! or a prompt, in that order.

/// One answer a pattern needs. Its key is the preset's key and, with `-` for `_`, the flag
/// (`ca_arn` → `--ca-arn`).
#[derive(Debug)]
pub struct Setting {
    pub key: &'static str,
    /// The question a prompt asks.
    pub question: &'static str,
    /// One line under the question: what it is for, what a good answer looks like.
    pub help: &'static str,
    pub default: SettingDefault,
    /// A closed list of answers, or empty for free text.
    pub choices: &'static [Choice],
    /// Asked only when another setting has this value: (key, value).
    pub when: Option<(&'static str, &'static str)>,
    pub validate: fn(&str) -> Result<(), String>,
}

/// What a setting takes when nobody gives it and nobody can be asked (`--yes`, CI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingDefault {
    /// It must be given.
    None,
    /// The deployment's name.
    DeploymentName,
    Fixed(&'static str),
}

/// One answer of a closed list.
#[derive(Debug)]
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    /// Asked as a yes/no after the choice, when the choice was made at a prompt: a choice
    /// that costs money must be confirmed. A flag or a preset naming it is confirmation.
    pub confirm: Option<&'static str>,
}

impl Setting {
    /// `--ca-arn` for `ca_arn`.
    pub fn flag(&self) -> String {
        format!("--{}", self.key.replace('_', "-"))
    }

    /// Whether the setting is asked, given the answers so far.
    pub fn applies(&self, answers: &std::collections::BTreeMap<String, String>) -> bool {
        match self.when {
            None => true,
            Some((key, value)) => answers.get(key).is_some_and(|v| v == value),
        }
    }

    /// The value when nobody can be asked; `deployment` is the run's name.
    pub fn default_value(&self, deployment: &str) -> Option<String> {
        match self.default {
            SettingDefault::None => None,
            SettingDefault::DeploymentName => Some(deployment.to_string()),
            SettingDefault::Fixed(v) => Some(v.to_string()),
        }
    }

    /// Checks a value: one of the choices, if there are any, and the setting's own rule.
    pub fn check(&self, value: &str) -> Result<(), String> {
        if !self.choices.is_empty() && !self.choices.iter().any(|c| c.value == value) {
            let names: Vec<&str> = self.choices.iter().map(|c| c.value).collect();
            return Err(format!(
                "{} '{value}' is not one of: {}",
                self.flag(),
                names.join(", ")
            ));
        }
        (self.validate)(value).map_err(|e| format!("{}: {e}", self.flag()))
    }

    pub fn choice(&self, value: &str) -> Option<&'static Choice> {
        self.choices.iter().find(|c| c.value == value)
    }
}

/// Standing choices a run records among the settings, beside the pattern's answers: the
/// consumer's connection accepted without asking (`--accept-connection`), the Private CA
/// deleted at cleanup (`--delete-private-ca`), keys kept in files (`--key-files`).
pub const ACCEPT_CONNECTION: &str = "accept_connection";
pub const DELETE_PRIVATE_CA: &str = "delete_private_ca";
pub const KEY_STORE: &str = "key_store";
/// The value of a yes/no standing choice that is on.
pub const YES: &str = "yes";
/// `KEY_STORE`'s value for 0600 files.
pub const KEY_FILES: &str = "files";

/// Accepts any value (a closed list is checked by its choices).
pub fn any(_: &str) -> Result<(), String> {
    Ok(())
}
