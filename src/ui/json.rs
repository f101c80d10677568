//! `--json`: one JSON document per line on stdout, one per engine event.
//!
//! Schema: every line is an object with `"type"` naming the event (`run_started`,
//! `step_started`, `change_set`, `stack_event`, `outputs`, `info`, `check`, `step_done`,
//! `step_failed`, `run_finished`) and the fields of `engine::Event`. Questions are answered by
//! `--yes`; without it a question ends the run with an error naming the missing answer.

use std::io::Write;

use crate::engine::{Event, Reporter};

pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn report(&self, event: &Event) {
        if let Ok(line) = serde_json::to_string(event) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

/// `xwizard status NAME --json`: the record as one object, with its one-word `status`.
pub fn status(d: &crate::state::Deployment) -> String {
    let mut doc = serde_json::to_value(d).unwrap_or_default();
    doc["status"] = d.summary().into();
    doc.to_string()
}

/// `xwizard list --json`: one object per line, `"type": "deployment"` for each record and
/// `"type": "unreadable"` (with `file` and `why`) for each file that is not one.
pub fn list(listing: &crate::state::Listing) -> String {
    let mut out = String::new();
    for d in &listing.deployments {
        let row = serde_json::json!({
            "type": "deployment",
            "name": d.name,
            "pattern": d.pattern,
            "status": d.summary(),
            "region": d.region,
            "producer_account": d.producer.account_id,
            "consumer_account": d.consumer.account_id,
            "created_at": d.created_at,
            "updated_at": d.updated_at,
        });
        out.push_str(&format!("{row}\n"));
    }
    for u in &listing.unreadable {
        let row = serde_json::json!({
            "type": "unreadable",
            "file": u.file.display().to_string(),
            "why": u.why,
        });
        out.push_str(&format!("{row}\n"));
    }
    out
}
