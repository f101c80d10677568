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
