//! The documented policies (`xwizard permissions`) against what full runs need, pattern by
//! pattern: every IAM action each account's calls used on the sandbox (deploy with its test,
//! a resume that makes the consumer's stacks again, cleanup), and every permission AWS's
//! CloudFormation resource handlers need for the resource types that account's templates hold
//! (create, read, update, delete), as the resource schemas shipped with cfn-lint state them.
//! Pattern 2 runs with a local CA, with a new Private CA (deleted at cleanup) and with a
//! Private CA the consumer's account has, so that the Private CA's actions are held in the
//! account that uses them. A missing action fails the test, named; so does one granted that
//! nothing needs (save the few a run here cannot show, each listed with why).

mod common;

use common::TestSandbox;
use common::deploy::{
    Recorder, Run, delete_consumer_stacks_behind_its_back, deployed, deployed_with, engine_for,
    sandbox_answers,
};
use common::sandbox;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use xwizard::aws::pca::{Pace, PcaMode, PrivateCa};
use xwizard::engine::Outcome;
use xwizard::plan::pattern2::{CA_EXISTING, CA_PRIVATE_SHORT_LIVED};
use xwizard::plan::{Pattern, Role, permissions};
use xwizard::state::Deployment;

/// The sandbox records actions per account, not per deployment: one pattern's runs at a time,
/// each test starting the record afresh.
static ONE_PATTERN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Actions xwizard calls on paths no run here takes, granted all the same: (patterns, roles,
/// action).
const NOT_SEEN_HERE: &[(&[Pattern], &[Role], &str)] = &[
    // A change set the person declines, or one with no changes, is deleted; these runs
    // apply every change set, and rerun only stacks whose inputs changed.
    (Pattern::ALL, &Role::BOTH, "cloudformation:DeleteChangeSet"),
    // The person rejects the consumer's connection; these runs accept it.
    (
        &[Pattern::MtlsPrivateLink],
        &[Role::Producer],
        "ec2:RejectVpcEndpointConnections",
    ),
];

/// AWS's resource schemas, as cfn-lint ships them in the test virtualenv (the one
/// `XWIZARD_SANDBOX_PYTHON` belongs to, else the repository's `.venv`).
fn resource_schemas() -> PathBuf {
    let python = std::env::var_os(xwizard::sandbox::python::PYTHON_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run `bash .ci/run` once)", python.display()));
    assert!(
        out.status.success(),
        "{} has no cfn-lint: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let schemas =
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join("data/schemas/resources");
    assert!(schemas.is_dir(), "no {}", schemas.display());
    schemas
}

/// Each resource type's handler permissions: create, read, update and delete together.
fn handler_permissions() -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(resource_schemas()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let Ok(schema) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(name) = schema["typeName"].as_str() else {
            continue;
        };
        let needs: BTreeSet<String> = ["create", "read", "update", "delete"]
            .iter()
            .flat_map(|h| {
                schema["handlers"][h]["permissions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        out.insert(name.to_string(), needs);
    }
    out
}

/// The resource types of the templates `role` deploys: each resource's `Type:` in the
/// top-level `Resources:` section (not a parameter's), in the two-space layout every template
/// here is written in.
fn resource_types(pattern: Pattern, role: Role) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    for spec in pattern
        .steps()
        .iter()
        .filter(|s| s.role == role)
        .filter_map(|s| s.stack())
    {
        let mut in_resources = false;
        for line in spec.template_body.lines() {
            if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
                in_resources = line == "Resources:";
            } else if let Some(ty) = line.strip_prefix("    Type: ").filter(|_| in_resources) {
                types.insert(ty.trim().to_string());
            }
        }
    }
    assert!(
        !types.is_empty(),
        "{pattern:?} {role:?} deploys no resources?"
    );
    types
}

/// The consumer's stacks deleted behind xwizard's back, then a resume that makes them again
/// (and, for Pattern 2, accepts the new endpoint's connection and tests again).
async fn resume_after_the_consumer_stacks_vanish(run: &Run, d: &Deployment) {
    delete_consumer_stacks_behind_its_back(run, d).await;
    let rec = Recorder::default();
    let outcome = engine_for(run, d.clone(), &rec).run().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
}

async fn destroy(run: &Run, name: &str) {
    let d = run.store.load(name).unwrap();
    let rec = Recorder::default();
    let outcome = engine_for(run, d, &rec).destroy().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
}

/// What `pattern`'s runs used (the actions recorded since the test forgot the earlier ones)
/// and its templates need, against its documented policies; fails naming what is missing.
async fn assert_documented(sb: &TestSandbox, pattern: Pattern, d: &Deployment) {
    let used = sb.control().actions().await.unwrap();
    let handlers = handler_permissions();
    let mut missing = Vec::new();
    let mut extra = Vec::new();
    for role in Role::BOTH {
        let account = &d.account(role).account_id;
        let documented: BTreeSet<String> = permissions::actions(pattern, role)
            .unwrap()
            .into_iter()
            .collect();
        let mut needed: BTreeSet<String> = used
            .get(account)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        needed.extend(
            NOT_SEEN_HERE
                .iter()
                .filter(|(patterns, roles, _)| patterns.contains(&pattern) && roles.contains(&role))
                .map(|(_, _, action)| action.to_string()),
        );
        for ty in resource_types(pattern, role) {
            let needs = handlers
                .get(&ty)
                .unwrap_or_else(|| panic!("no resource schema for {ty}"));
            needed.extend(needs.iter().cloned());
        }
        for action in needed.difference(&documented) {
            missing.push(format!("{}: {action}", role.as_str()));
        }
        for action in documented.difference(&needed) {
            extra.push(format!("{}: {action}", role.as_str()));
        }
    }
    let n = pattern.number();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "actions a run of pattern {n} needs that `xwizard permissions --pattern {n}` does not \
         grant:\n{}\n\nactions it grants that no run of pattern {n}, no resource type of its \
         templates and no path in NOT_SEEN_HERE needs:\n{}",
        missing.join("\n"),
        extra.join("\n")
    );
}

#[tokio::test]
async fn pattern_1s_policies_cover_a_full_run_and_its_templates() {
    let sb = sandbox();
    let _one = ONE_PATTERN_AT_A_TIME.lock().await;
    sb.control().forget_actions().await.unwrap();
    let (run, d, _) = deployed(sb).await;
    resume_after_the_consumer_stacks_vanish(&run, &d).await;
    destroy(&run, &d.name).await;
    // The test's own deletions above used only what cleanup uses too.
    assert_documented(sb, Pattern::VpcEndpoint, &d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pattern_2s_policies_cover_full_runs_with_each_kind_of_private_ca_and_its_templates() {
    let sb = sandbox();
    let _one = ONE_PATTERN_AT_A_TIME.lock().await;
    // A Private CA the consumer has already, made before the record starts: what a person
    // names with `--ca existing-private-ca --ca-arn …` (it may be in either account).
    let consumers_ca = PrivateCa::new(&sb.session("consumer").await).with_pace(Pace::SANDBOX);
    let existing_arn = consumers_ca
        .create_root_ca(
            "xwizard permissions test CA",
            PcaMode::GeneralPurpose,
            "none",
        )
        .await
        .unwrap();
    consumers_ca
        .install_root_certificate(&existing_arn)
        .await
        .unwrap();
    sb.control().forget_actions().await.unwrap();

    // Side by side, as each waits on the sandbox more than it works: a local CA (and a
    // resume), a new Private CA deleted at cleanup, and the consumer's existing one.
    let local_ca = async {
        let (run, d, _) = deployed_with(sb, &sandbox_answers(Pattern::MtlsPrivateLink)).await;
        resume_after_the_consumer_stacks_vanish(&run, &d).await;
        destroy(&run, &d.name).await;
        d
    };
    let new_private_ca = async {
        let mut answers = sandbox_answers(Pattern::MtlsPrivateLink);
        answers.ca = Some(CA_PRIVATE_SHORT_LIVED.into());
        let (run, d, _) = deployed_with(sb, &answers).await;
        // As `xwizard destroy NAME --delete-private-ca` records it.
        xwizard::run::record_choices(&run.store, &d.name, &[("delete_private_ca", true)]).unwrap();
        destroy(&run, &d.name).await;
    };
    let existing_private_ca = async {
        let mut answers = sandbox_answers(Pattern::MtlsPrivateLink);
        answers.ca = Some(CA_EXISTING.into());
        answers.ca_arn = Some(existing_arn.clone());
        let (run, d, _) = deployed_with(sb, &answers).await;
        destroy(&run, &d.name).await;
    };
    let (d, (), ()) = tokio::join!(local_ca, new_private_ca, existing_private_ca);
    assert_documented(sb, Pattern::MtlsPrivateLink, &d).await;
    consumers_ca
        .disable_and_delete(&existing_arn, 7)
        .await
        .unwrap();
}
