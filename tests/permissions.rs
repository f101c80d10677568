//! The documented policies (`xwizard permissions`) against what a full run needs: every IAM
//! action each account's calls used on the sandbox (deploy, a resume that updates, the test
//! calls, cleanup), and every permission AWS's CloudFormation resource handlers need for the
//! resource types that account's templates hold (create, read, update, delete), as the
//! resource schemas shipped with cfn-lint state them. A missing action fails the test, named.

mod common;

use common::deploy::{Recorder, delete_consumer_stacks_behind_its_back, deployed, engine_for};
use common::sandbox;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use xwizard::engine::Outcome;
use xwizard::plan::{Pattern, Role, permissions};

/// AWS's resource schemas, as cfn-lint ships them in the test virtualenv.
fn resource_schemas() -> PathBuf {
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{}: {e} (run `bash .ci/run` once)", lib.display()))
        .filter_map(|e| e.ok())
        .map(|e| {
            e.path()
                .join("site-packages/cfnlint/data/schemas/resources")
        })
        .find(|p| p.is_dir())
        .expect("cfn-lint's resource schemas in .venv")
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

/// The resource types of the templates `role` deploys.
fn resource_types(pattern: Pattern, role: Role) -> BTreeSet<String> {
    pattern
        .steps()
        .iter()
        .filter(|s| s.role == role)
        .filter_map(|s| s.stack())
        .flat_map(|spec| spec.template_body.lines())
        .filter_map(|l| l.trim().strip_prefix("Type: "))
        .filter(|t| t.starts_with("AWS::"))
        .map(|t| t.trim().to_string())
        .collect()
}

#[tokio::test]
async fn the_documented_policies_cover_a_full_run_and_the_templates() {
    let sb = sandbox();
    let (run, d, _) = deployed(sb).await;

    // A resume that updates: the consumer's stacks made again behind its back.
    delete_consumer_stacks_behind_its_back(&run, &d).await;
    let rec = Recorder::default();
    let outcome = engine_for(&run, d.clone(), &rec).run().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
    let d = run.store.load(&d.name).unwrap();
    let rec = Recorder::default();
    let outcome = engine_for(&run, d, &rec).destroy().await;
    assert_eq!(outcome.unwrap(), Outcome::Completed, "{}", rec.json());
    // The test's own deletions above used only what cleanup uses too.
    let used = sb.control().actions().await.unwrap();

    let handlers = handler_permissions();
    let mut missing = Vec::new();
    for role in Role::BOTH {
        let account = &run.deployment.account(role).account_id;
        let documented: BTreeSet<String> = permissions::actions(Pattern::VpcEndpoint, role)
            .unwrap()
            .into_iter()
            .collect();
        let mut needed: BTreeSet<String> = used
            .get(account)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        for ty in resource_types(Pattern::VpcEndpoint, role) {
            let needs = handlers
                .get(&ty)
                .unwrap_or_else(|| panic!("no resource schema for {ty}"));
            needed.extend(needs.iter().cloned());
        }
        for action in needed.difference(&documented) {
            missing.push(format!("{}: {action}", role.as_str()));
        }
    }
    assert!(
        missing.is_empty(),
        "actions a run needs that `xwizard permissions` does not grant:\n{}",
        missing.join("\n")
    );
}
