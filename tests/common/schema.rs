//! The published JSON event schema (`assets/schema/events-1.schema.json`), held against every
//! event the tests read from `--json` runs.

use std::sync::OnceLock;

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../assets/schema/events-1.schema.json"))
                .expect("the event schema is JSON");
        jsonschema::validator_for(&schema).expect("the event schema is a valid JSON Schema")
    })
}

/// Panics, naming what is wrong, unless `event` is valid against the published schema.
pub fn assert_valid_event(event: &serde_json::Value) {
    let errors: Vec<String> = validator()
        .iter_errors(event)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "an event the schema does not allow: {event}\n{}",
        errors.join("\n")
    );
}
