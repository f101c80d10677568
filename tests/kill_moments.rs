//! One deployment killed (SIGKILL: nothing saved on the way out) at twenty moments across a
//! deployment and its cleanup, resumed each time from what the accounts really have: it ends
//! deployed with every check passing and no stack made twice, and cleanup leaves nothing.
//!
//! Stacks are held in progress with the sandbox's fault API where a moment needs one to last;
//! elsewhere the kill lands wherever the run has got to, which is the point: every moment
//! must resume. The table of moments and what each left is printed (`--nocapture`).

mod common;

use common::shell::{
    PRESET, Shell, checks_passed, finish, kill, said_nothing_is_left, shell_on_a_sandbox,
    stack_reaches, wait_event,
};
use serde_json::Value;
use std::collections::BTreeMap;

use xwizard::aws::{ProfileSource, Session};
use xwizard::state::Store;

const NAME: &str = "killed";

fn stack(suffix: &str) -> String {
    format!("xw-{NAME}-{suffix}")
}

fn step_started(step: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["type"] == "step_started" && e["step"] == step
}

fn of_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["type"] == kind
}

/// `probe` run with a CloudFormation client of each sandbox account: producer, consumer.
fn with_sessions<T, F, Fut>(shell: &Shell, probe: F) -> Vec<T>
where
    F: Fn(aws_sdk_cloudformation::Client) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let env: BTreeMap<&str, &str> = shell
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let source = ProfileSource::files(
        env["AWS_CONFIG_FILE"].into(),
        env["AWS_SHARED_CREDENTIALS_FILE"].into(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut out = Vec::new();
        for role in ["producer", "consumer"] {
            let session = Session::load(&format!("sandbox-{role}"), None, &source).await;
            out.push(probe(aws_sdk_cloudformation::Client::new(&session.config)).await);
        }
        out
    })
}

/// The deployment's live stacks in both accounts, by name: how many of each.
fn live_stacks(shell: &Shell) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for names in with_sessions(shell, |cfn| async move {
        let listed = cfn.list_stacks().send().await.unwrap();
        listed
            .stack_summaries()
            .iter()
            .filter(|s| s.stack_status().map(|s| s.as_str()) != Some("DELETE_COMPLETE"))
            .filter_map(|s| s.stack_name().map(str::to_string))
            .filter(|n| n.starts_with(&format!("xw-{NAME}-")))
            .collect::<Vec<_>>()
    }) {
        for name in names {
            *counts.entry(name).or_insert(0) += 1;
        }
    }
    counts
}

/// A stack's status in whichever account has it; `None` when neither does.
fn stack_status(shell: &Shell, name: &str) -> Option<String> {
    with_sessions(shell, |cfn| async move {
        let out = cfn.describe_stacks().stack_name(name).send().await.ok()?;
        out.stacks()
            .first()?
            .stack_status()
            .map(|s| s.as_str().to_string())
    })
    .into_iter()
    .flatten()
    .next()
}

/// What the record says of each step, in one line.
fn record(shell: &Shell) -> String {
    let d = Store::new(&shell.dir).load(NAME).unwrap();
    let steps: Vec<String> = d
        .pattern
        .steps()
        .iter()
        .map(|s| format!("{}={:?}", s.id, d.step(s.id).status).to_lowercase())
        .collect();
    format!("{} [{}]", d.summary(), steps.join(" "))
}

struct Moment {
    what: &'static str,
    command: &'static [&'static str],
    hold: Option<&'static str>,
    release_before: Option<&'static str>,
    /// The event the kill waits for; or, with `until_stack`, a stack status read in AWS
    /// (an event a killed run already reported is not reported again).
    wanted: Box<dyn Fn(&Value) -> bool>,
    until_stack: Option<(&'static str, &'static str)>,
}

fn moment(
    what: &'static str,
    command: &'static [&'static str],
    wanted: impl Fn(&Value) -> bool + 'static,
) -> Moment {
    Moment {
        what,
        command,
        hold: None,
        release_before: None,
        wanted: Box::new(wanted),
        until_stack: None,
    }
}

const RESUME: &[&str] = &["resume", NAME, "--yes", "--json"];
const DESTROY: &[&str] = &["destroy", NAME, "--yes", "--json"];

#[test]
fn killed_at_twenty_moments_it_resumes_to_a_passing_deployment_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let mut table = vec![format!("{:<58} | what the record said after it", "moment")];

    // The change set is made and nobody answers: the stack stays REVIEW_IN_PROGRESS.
    let out = shell
        .command(&["new", "--json", "--preset", PRESET, "--name", NAME])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(live_stacks(&shell).get(&stack("consumer-vpc")), Some(&1));
    table.push(format!(
        "{:<58} | {}",
        "0. change set made, never executed (no --yes)",
        record(&shell)
    ));

    let vpc = "consumer-vpc";
    let mut moments = vec![
        Moment {
            hold: Some(vpc),
            ..moment(
                "network stack held in progress",
                RESUME,
                stack_reaches(&stack(vpc), "CREATE_IN_PROGRESS"),
            )
        },
        moment("following the held network stack", RESUME, |e| {
            e["type"] == "info"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("following it"))
        }),
        Moment {
            release_before: Some(vpc),
            ..moment("network stack's outputs taken", RESUME, of_type("outputs"))
        },
        moment("a resume just started", RESUME, of_type("run_started")),
        moment(
            "registering the targets",
            RESUME,
            step_started("register-targets"),
        ),
        moment("producer step started", RESUME, step_started("producer")),
        Moment {
            hold: Some("producer"),
            ..moment("producer change set shown", RESUME, of_type("change_set"))
        },
        moment(
            "producer step started again, stack held",
            RESUME,
            step_started("producer"),
        ),
        moment("producer stack in progress or followed", RESUME, |e| {
            (e["type"] == "stack_event" && e["stack"] == stack("producer").as_str())
                || (e["type"] == "info"
                    && e["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("following it")))
        }),
        Moment {
            release_before: Some("producer"),
            ..moment("producer done", RESUME, |e| {
                e["type"] == "step_done" && e["step"] == "producer"
            })
        },
        moment(
            "scoping the endpoint policy",
            RESUME,
            step_started("scope-endpoint-policy"),
        ),
        moment(
            "consumer API step started",
            RESUME,
            step_started("consumer-api"),
        ),
        Moment {
            hold: Some("consumer-api"),
            ..moment("consumer API stack in progress or followed", RESUME, |e| {
                (e["type"] == "stack_event" && e["stack"] == stack("consumer-api").as_str())
                    || (e["type"] == "info"
                        && e["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("following it")))
            })
        },
        Moment {
            release_before: Some("consumer-api"),
            ..moment("test step started", RESUME, step_started("test"))
        },
        moment("first test call made", RESUME, of_type("check")),
        // Cleanup: the API stack is held while its deletion is killed twice.
        Moment {
            hold: Some("consumer-api"),
            ..moment("cleanup just started", DESTROY, of_type("step_started"))
        },
        Moment {
            until_stack: Some(("consumer-api", "DELETE_IN_PROGRESS")),
            ..moment("consumer API stack being deleted (held)", DESTROY, |_| {
                false
            })
        },
        moment(
            "cleanup again, consumer API still deleting",
            DESTROY,
            step_started("consumer-api"),
        ),
        Moment {
            release_before: Some("consumer-api"),
            hold: Some(vpc),
            until_stack: Some((vpc, "DELETE_IN_PROGRESS")),
            ..moment("network stack being deleted (held)", DESTROY, |_| false)
        },
        moment(
            "cleanup again, network stack still deleting",
            DESTROY,
            step_started("consumer-vpc"),
        ),
    ];
    assert!(moments.len() >= 20);

    let mut deployed = false;
    for (i, m) in moments.drain(..).enumerate() {
        if m.command == DESTROY && !deployed {
            // The deployment finishes before its cleanup is killed.
            let (child, rx) = shell.spawn(RESUME);
            let events = finish(child, rx, Vec::new());
            checks_passed(&events);
            assert_eq!(record(&shell).split(' ').next(), Some("deployed"));
            table.push(format!(
                "{:<58} | {}",
                "(resumed to the end)",
                record(&shell)
            ));
            deployed = true;
        }
        if let Some(s) = m.release_before {
            shell.ok(&["sandbox", "fault", "release", &stack(s)]);
        }
        if let Some(s) = m.hold {
            shell.ok(&["sandbox", "fault", "hold", &stack(s)]);
        }
        let (mut child, rx) = shell.spawn(m.command);
        match m.until_stack {
            Some((suffix, status)) => {
                common::wait_for_sync(m.what, common::shell::DEADLINE, || {
                    stack_status(&shell, &stack(suffix)).as_deref() == Some(status)
                });
            }
            None => {
                wait_event(&rx, m.what, &m.wanted);
            }
        }
        kill(&mut child);
        let counts = live_stacks(&shell);
        assert!(
            counts.values().all(|&n| n == 1),
            "a stack made twice after moment {}: {counts:?}",
            i + 1
        );
        table.push(format!(
            "{:<58} | {}",
            format!("{}. {}", i + 1, m.what),
            record(&shell)
        ));
    }

    // Released, the last cleanup finishes and nothing of the deployment is left anywhere.
    shell.ok(&["sandbox", "fault", "release", &stack(vpc)]);
    let (child, rx) = shell.spawn(DESTROY);
    let events = finish(child, rx, Vec::new());
    said_nothing_is_left(&events);
    assert!(live_stacks(&shell).is_empty(), "{:?}", live_stacks(&shell));
    table.push(format!(
        "{:<58} | {}",
        "(destroyed to the end)",
        record(&shell)
    ));
    eprintln!("{}", table.join("\n"));
}
