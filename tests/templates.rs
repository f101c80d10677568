//! Every CloudFormation template under `assets/templates/`: small enough to be sent inline,
//! with its parity notes beside it, the same bytes as the copy embedded in the binary, and
//! every parameter without a default given a value by the step that deploys it.
//! (cfn-lint itself runs over the same files in `.ci/test`.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// CloudFormation's limit for a template sent in the request body (`TemplateBody`).
const INLINE_LIMIT: usize = 51_200;

fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates")
}

/// (path under `assets/templates/`, text) of every `.yaml` file, in path order.
fn templates_on_disk() -> Vec<(String, String)> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                found.push(path);
            }
        }
    }
    let root = templates_dir();
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The keys of a top-level section (`Parameters`, `Outputs`), each with whether its block
/// has a `Default:`. Reads the two-space layout every template here is written in.
fn section(body: &str, name: &str) -> Vec<(String, bool)> {
    let mut keys: Vec<(String, bool)> = Vec::new();
    let mut inside = false;
    for line in body.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            inside = line == format!("{name}:");
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(key) = line
            .strip_prefix("  ")
            .filter(|rest| !rest.starts_with(' '))
            .and_then(|rest| rest.strip_suffix(':'))
        {
            keys.push((key.to_string(), false));
        } else if line.starts_with("    Default:") {
            keys.last_mut().expect("a Default belongs to a key").1 = true;
        }
    }
    keys
}

fn template(path: &str) -> String {
    std::fs::read_to_string(templates_dir().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_template_can_be_sent_inline() {
    let all = templates_on_disk();
    let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    for pattern in ["pattern1/", "pattern2/"] {
        assert!(
            paths.iter().any(|p| p.starts_with(pattern)),
            "no {pattern} template among {paths:?}"
        );
    }
    for (path, body) in &all {
        assert!(
            body.len() < INLINE_LIMIT,
            "{path} has {} bytes; CloudFormation takes at most {INLINE_LIMIT} inline \
             (split it, as producer-network/producer-api are split)",
            body.len()
        );
        assert!(
            body.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\nDescription:"),
            "{path}: starts without the format version and a description"
        );
        assert!(
            !section(body, "Resources").is_empty(),
            "{path} has no resources"
        );
    }
}

#[test]
fn every_pattern_directory_has_parity_notes_and_embedded_templates_match_the_files() {
    let dirs: BTreeSet<String> = templates_on_disk()
        .iter()
        .map(|(p, _)| p.split('/').next().unwrap().to_string())
        .collect();
    for dir in &dirs {
        assert!(
            templates_dir().join(dir).join("PARITY.md").is_file(),
            "{dir}/ has templates but no PARITY.md"
        );
    }
    for (path, body) in xwizard::plan::templates() {
        assert_eq!(template(path), body, "{path}: the embedded copy differs");
    }
}

const NETWORK: &str = "pattern2/producer-network.yaml";
const CONSUMER: &str = "pattern2/consumer.yaml";

/// Every parameter a template declares without a default is one its step gives a value
/// (the plan's own tests check the other way: every value a step gives is a declared
/// parameter, and every output it takes comes from an earlier step that gives it).
#[test]
fn every_parameter_without_a_default_is_given_by_its_step() {
    for pattern in xwizard::plan::Pattern::ALL {
        for step in pattern.steps() {
            let Some(spec) = step.stack() else { continue };
            for (name, has_default) in section(&template(spec.template_path), "Parameters") {
                let given = spec.parameters.iter().any(|(p, _)| *p == name);
                assert!(
                    given || has_default,
                    "{}: parameter {name} has no default and step {} gives it no value",
                    spec.template_path,
                    step.id
                );
            }
        }
    }
}

#[test]
fn pattern2_templates_name_the_step_that_deploys_them() {
    for path in [
        "pattern2/producer-network.yaml",
        "pattern2/producer-api.yaml",
        CONSUMER,
    ] {
        let body = template(path);
        assert!(
            body.lines().any(|l| l.starts_with("# Step \"")),
            "{path}: no header comment naming its step"
        );
    }
}

/// The producer's secret and key policies admit the consumer's instance role by name, before
/// that role exists; the consumer template must make exactly that role.
#[test]
fn the_consumer_instance_role_is_the_one_the_producer_admits() {
    let role = "xw-${DeploymentName}-consumer-instance";
    assert!(
        template(CONSUMER).contains(&format!("RoleName: !Sub \"{role}\"")),
        "{CONSUMER} does not name its instance role {role}"
    );
    let network = template(NETWORK);
    let admitted = format!("iam::${{ConsumerAccountId}}:role/{role}\"");
    // The key policy, the secret policy and the output that shows it.
    assert_eq!(network.matches(&admitted).count(), 3, "{NETWORK}");
}
