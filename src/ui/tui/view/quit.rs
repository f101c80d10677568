//! Quit confirmation: says what happens to the run, and how to carry it on later.

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::dialog;
use crate::ui::tui::model::Model;

pub(super) fn render(model: &Model, frame: &mut Frame) {
    let t = &model.theme;
    let mut lines = vec![Line::raw("")];
    match model.deployment_name() {
        Some(name) if model.running() => {
            lines.push(Line::raw(
                "The run stops here. Everything made so far is kept and the",
            ));
            lines.push(Line::raw(
                "record is saved after every step; a stack operation under way",
            ));
            lines.push(Line::raw("finishes in CloudFormation on its own."));
            if matches!(
                model.question,
                Some(crate::engine::Question::AcceptConnection { .. })
            ) {
                lines.push(Line::raw(
                    "The connection request is left pending, as l leaves it.",
                ));
            }
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::raw("Carry on later with  "),
                Span::styled(format!("xwizard resume {name}"), t.key),
            ]));
        }
        Some(name) if model.finished_as(crate::engine::RunStatus::Destroyed) => {
            lines.push(Line::raw(
                "Nothing is running; everything the deployment made is deleted.",
            ));
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::raw("Drop its record (and free the name) with  "),
                Span::styled(format!("xwizard forget {name}"), t.key),
            ]));
        }
        Some(name) => {
            lines.push(Line::raw(
                "Nothing is running; the deployment stays as it is.",
            ));
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::raw("See it with  "),
                Span::styled(format!("xwizard status {name}"), t.key),
            ]));
        }
        None => lines.push(Line::raw(
            "Nothing has been created yet; the answers so far are not kept.",
        )),
    }
    lines.push(Line::raw(""));
    lines.push(super::yes_no(t, "quit", "stay"));
    dialog(t, frame, " Quit xwizard? ", lines);
}
