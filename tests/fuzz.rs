//! Fuzzing of everything that reads what a person or a file hands xwizard, and of the JSON
//! event encoder CI reads back: none may panic, whatever the input, and what they accept must
//! be safe to use.
//!
//! The number of cases per property comes from `XWIZARD_FUZZ_CASES` (CI runs a few thousand;
//! `XWIZARD_FUZZ_CASES=170000 cargo test --release --test fuzz` runs over a million in all).

use proptest::prelude::*;
use proptest::test_runner::Config;
use std::collections::BTreeMap;
use std::path::Path;

use xwizard::aws::stacks::StackEvent;
use xwizard::check::{ConnectTo, Resolve};
use xwizard::engine::{ChangeView, CheckView, Event, Phase};
use xwizard::plan::{Role, validate_deployment_name, validate_region};
use xwizard::preset::Preset;
use xwizard::state::{RootCause, parse_record};

fn config() -> Config {
    let cases = std::env::var("XWIZARD_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4000);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text a person or a damaged file might hold: any characters, weighted towards the ones
/// that matter to paths, TOML and shells.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9./:_\\-\\[\\] =\"'\n\\\\]{0,40}",
        "[a-zA-Z0-9 \t\n\r\u{0}-\u{1f}\u{7f}\u{202e}\u{fffd}]{0,30}",
    ]
}

/// TOML-shaped text: keys and values of a preset or record, often almost right.
fn tomlish() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("pattern"),
        Just("region"),
        Just("name"),
        Just("producer_profile"),
        Just("consumer_profile"),
        Just("allow_same_account"),
        Just("schema_version"),
        Just("created_at"),
        Just("[producer]"),
        Just("[steps.consumer-vpc]"),
        Just("status"),
        Just("profile_files"),
    ];
    let value = prop_oneof![
        Just("\"vpc-endpoint\"".to_string()),
        Just("\"mtls\"".to_string()),
        Just("true".to_string()),
        Just("99999999999999999999".to_string()),
        Just("-1".to_string()),
        Just("[\"a\", \"b\"]".to_string()),
        "\"[a-z0-9./\\-]{0,12}\"",
        text(),
    ];
    prop::collection::vec((key, value), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| {
                if k.starts_with('[') {
                    format!("{k}\n")
                } else {
                    format!("{k} = {v}\n")
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn presets_never_panic(input in prop_oneof![text(), tomlish()]) {
        let _ = Preset::parse(&input, "fuzz.toml");
    }

    #[test]
    fn records_never_panic_and_a_read_record_is_the_one_asked_for(
        input in prop_oneof![text(), tomlish()],
        name in "[a-z][a-z0-9-]{2,8}",
    ) {
        if let Ok(d) = parse_record(&name, Path::new("fuzz.toml"), &input) {
            prop_assert_eq!(d.name, name);
            prop_assert!(d.schema_version <= xwizard::state::SCHEMA_VERSION);
        }
    }

    #[test]
    fn an_accepted_name_is_safe_in_a_path_and_a_stack_name(input in text()) {
        if validate_deployment_name(&input).is_ok() {
            prop_assert!((3..=20).contains(&input.len()));
            prop_assert!(input.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            prop_assert!(!input.contains(".."));
        }
    }

    #[test]
    fn an_accepted_region_is_a_plain_aws_region_name(input in text()) {
        if validate_region(&input).is_ok() {
            prop_assert!(input.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            prop_assert!(input.split('-').count() >= 3);
        }
    }

    #[test]
    fn test_call_options_never_panic_and_resolve_only_to_addresses(input in text()) {
        if let Ok(r) = input.parse::<Resolve>() {
            prop_assert!(r.addr.parse::<std::net::IpAddr>().is_ok(), "{:?}", r);
        }
        if let Ok(c) = input.parse::<ConnectTo>() {
            prop_assert!(!c.to_host.is_empty());
        }
    }

    #[test]
    fn every_event_encodes_as_one_line_of_json_that_reads_back(
        a in text(), b in text(), c in text(), d in text(),
        n in any::<u32>(), f in any::<f64>(), flag in any::<bool>(), which in 0..7usize,
    ) {
        let event = match which {
            0 => Event::Info { step: a.clone(), message: b.clone() },
            1 => Event::StepFailed {
                step: a.clone(),
                phase: if flag { Phase::Deploy } else { Phase::Cleanup },
                message: b.clone(),
                root_cause: flag.then(|| RootCause {
                    logical_id: c.clone(), resource_type: d.clone(),
                    status: "CREATE_FAILED".into(), reason: b.clone(),
                }),
                next: c.clone(),
            },
            2 => Event::StackEvent {
                step: a.clone(),
                stack: b.clone(),
                event: StackEvent {
                    event_id: c.clone(), timestamp: d.clone(), logical_id: a.clone(),
                    physical_id: b.clone(), resource_type: c.clone(), status: d.clone(),
                    reason: a.clone(),
                },
            },
            3 => Event::Check {
                step: a.clone(),
                check: CheckView {
                    name: b.clone(), request: c.clone(), expected: d.clone(),
                    status: flag.then_some(n as u16), body: a.clone(),
                    latency_ms: u64::from(n), passed: flag, attempts: n,
                },
            },
            4 => Event::Outputs {
                step: a.clone(),
                outputs: BTreeMap::from([(b.clone(), c.clone()), (d.clone(), a.clone())]),
            },
            5 => Event::ChangeSet {
                step: a.clone(),
                stack: b.clone(),
                changes: vec![ChangeView {
                    action: c.clone(), logical_id: d.clone(), resource_type: a.clone(),
                    replacement: flag.then(|| b.clone()), access: flag,
                    replaced_by: vec![c.clone()], details: Vec::new(),
                }],
            },
            _ => Event::StepStarted {
                step: a.clone(), title: b.clone(), role: if flag { Role::Producer } else { Role::Consumer },
                account_id: c.clone(), phase: Phase::Cleanup,
                stack: flag.then(|| d.clone()), wave: flag.then_some(n as u8),
            },
        };
        let line = serde_json::to_string(&event).expect("every event encodes");
        prop_assert!(!line.contains('\n'), "one event, one line");
        let back: serde_json::Value = serde_json::from_str(&line).expect("it reads back");
        prop_assert!(back["type"].is_string());
        prop_assert_eq!(back["step"].as_str(), Some(a.as_str()));
        let _ = f; // floats are covered below
        let done = serde_json::to_string(&Event::StepDone { step: a, phase: Phase::Deploy, seconds: f, api_calls: n })
            .expect("a step's time encodes, even when not finite");
        prop_assert!(serde_json::from_str::<serde_json::Value>(&done).is_ok());
    }
}
