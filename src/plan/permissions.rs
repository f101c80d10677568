//! The IAM permissions a person needs in each account to run a pattern with xwizard: deploy,
//! resume, test and clean up, including what CloudFormation does with their rights. Kept as
//! data (`assets/permissions/`), printed by `xwizard permissions`, and held against what a full
//! run on the sandbox calls and what the templates' resource types need (tests/permissions.rs).

use anyhow::{Context, Result};
use serde::Deserialize;

use super::{Pattern, Role};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Actions {
    /// What the person should know before granting them (e.g. which are needed only for a
    /// choice they may not make), shown with the policy.
    #[serde(default)]
    note: Option<String>,
    actions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternPermissions {
    producer: Actions,
    consumer: Actions,
}

fn source(pattern: Pattern) -> &'static str {
    match pattern {
        Pattern::VpcEndpoint => include_str!("../../assets/permissions/pattern1.toml"),
        Pattern::MtlsPrivateLink => include_str!("../../assets/permissions/pattern2.toml"),
    }
}

fn of(pattern: Pattern, role: Role) -> Result<Actions> {
    let all: PatternPermissions = toml::from_str(source(pattern)).with_context(|| {
        format!(
            "the permissions of pattern {} do not parse",
            pattern.number()
        )
    })?;
    Ok(match role {
        Role::Producer => all.producer,
        Role::Consumer => all.consumer,
    })
}

/// The IAM actions `role` needs for `pattern`, sorted.
pub fn actions(pattern: Pattern, role: Role) -> Result<Vec<String>> {
    let mut actions = of(pattern, role)?.actions;
    actions.sort();
    actions.dedup();
    Ok(actions)
}

/// What the person granting `role`'s policy for `pattern` should know, if anything.
pub fn note(pattern: Pattern, role: Role) -> Result<Option<String>> {
    Ok(of(pattern, role)?.note)
}

/// An identity policy granting `actions`, to attach to the user or role a profile signs in as.
///
/// Resources are `*`: the stacks name most of what they make from the deployment name, which
/// is chosen at run time, and several of these actions (Describe*, the API Gateway account
/// setting) take no resource at all.
pub fn policy(actions: &[String]) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "XwizardDeploysTestsAndCleansUp",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_has_a_policy_for_each_account() {
        for pattern in Pattern::ALL {
            for role in Role::BOTH {
                let actions = actions(*pattern, role).unwrap();
                assert!(!actions.is_empty(), "{pattern:?} {role:?}");
                assert!(
                    actions
                        .iter()
                        .all(|a| a.split_once(':').is_some_and(|(s, n)| {
                            !s.is_empty() && !n.is_empty() && !a.contains(' ')
                        })),
                    "{actions:?}"
                );
                assert!(actions.contains(&"cloudformation:CreateChangeSet".to_string()));
                let note = note(*pattern, role).unwrap();
                assert!(note.is_none_or(|n| !n.trim().is_empty() && !n.contains('\n')));
            }
        }
    }
}
