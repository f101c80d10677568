//! Steps that need nothing of each other run side by side: the endpoint's targets are
//! registered while the producer stack is still being made, and the endpoint policy is scoped
//! while the consumer API stack is. Each stack is held with the sandbox's fault API, so what
//! runs beside it is seen however slow the machine.

mod common;

use common::shell::{PRESET, checks_passed, finish, shell_on_a_sandbox, wait_event};

const NAME: &str = "graph";

fn done(step: &'static str) -> impl Fn(&serde_json::Value) -> bool {
    move |e| e["type"] == "step_done" && e["step"] == step && e["phase"] == "deploy"
}

#[test]
fn steps_that_need_nothing_of_each_other_run_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let (shell, _down) = shell_on_a_sandbox(dir.path());
    let stack = |step: &str| format!("xw-{NAME}-{step}");
    shell.ok(&["sandbox", "fault", "hold", &stack("producer")]);
    shell.ok(&["sandbox", "fault", "hold", &stack("consumer-api")]);
    let (child, rx) = shell.spawn(&["new", "--yes", "--json", "--preset", PRESET, "--name", NAME]);

    // The producer stack is held: the targets get registered all the same.
    let mut seen = wait_event(&rx, "the targets registered", done("register-targets"));
    assert!(
        !seen.iter().any(done("producer")),
        "the producer stack was held: {seen:#?}"
    );
    assert!(
        seen.iter()
            .any(|e| e["type"] == "step_started" && e["step"] == "producer"),
        "the producer step had started: {seen:#?}"
    );
    shell.ok(&["sandbox", "fault", "release", &stack("producer")]);

    // The consumer API stack is held: the endpoint policy is scoped all the same.
    seen.extend(wait_event(
        &rx,
        "the endpoint policy scoped",
        done("scope-endpoint-policy"),
    ));
    assert!(!seen.iter().any(done("consumer-api")), "{seen:#?}");
    assert!(
        seen.iter()
            .any(|e| e["type"] == "step_started" && e["step"] == "consumer-api"),
        "the consumer API step had started: {seen:#?}"
    );
    shell.ok(&["sandbox", "fault", "release", &stack("consumer-api")]);

    // The test waits for every step, and passes.
    let events = finish(child, rx, seen);
    let position = |wanted: &dyn Fn(&serde_json::Value) -> bool| {
        events.iter().position(wanted).expect("the event")
    };
    let test_started = position(&|e| e["type"] == "step_started" && e["step"] == "test");
    for step in [
        "consumer-vpc",
        "register-targets",
        "producer",
        "scope-endpoint-policy",
        "consumer-api",
    ] {
        assert!(
            position(&done(step)) < test_started,
            "{step} before the test"
        );
    }
    checks_passed(&events);
    assert_eq!(
        events.last().map(|e| e["status"].clone()),
        Some("deployed".into())
    );
    shell.ok(&["destroy", NAME, "--yes", "--json"]);
}
