//! A failed step: the root cause (the first real failure, not the cascade), what was kept,
//! and what to do next.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Key, block, render_nothing, who, with_tests_help_quit};
use crate::state::StepStatus;
use crate::ui::tui::model::{Model, ellipsize};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    with_tests_help_quit(model, vec![("l", "deployment and log")])
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let Some(f) = &model.failure else {
        render_nothing(t, frame, area, "No failure.", " Error ");
        return;
    };
    let width = area.width.saturating_sub(2) as usize;
    let step = model.step_row(&f.step);
    let name = model.deployment_name().unwrap_or("<name>");
    let mut lines = vec![Line::styled(
        ellipsize(
            &format!(
                "✘ {}{}",
                step.map_or(f.step.clone(), |s| format!("{}: {}", s.id, s.title)),
                step.map_or(String::new(), |s| format!(
                    " ({})",
                    who(model, &s.account_id)
                ))
            ),
            width,
        ),
        t.fail,
    )];
    match &f.root_cause {
        Some(c) => {
            lines.push(Line::from(vec![
                Span::styled("Root cause ", t.title),
                Span::styled(
                    ellipsize(
                        &format!("{} ({}) {}", c.logical_id, c.resource_type, c.status),
                        width.saturating_sub(11),
                    ),
                    t.fail,
                ),
            ]));
            lines.push(Line::raw(format!("  {}", c.reason)));
        }
        None => lines.push(Line::from(vec![
            Span::styled("Cause      ", t.title),
            Span::raw(f.message.clone()),
        ])),
    }
    if f.root_cause.is_some() {
        lines.push(Line::styled(
            ellipsize(&format!("  ({})", f.message), width),
            t.dim,
        ));
    }
    // What to do next comes before what was kept: on a small terminal it stays in sight.
    lines.push(Line::raw(""));
    lines.push(Line::styled("Next", t.title));
    lines.push(Line::raw(format!("  {}", f.next)));
    for (cmd, what) in [
        ("resume", "carry on from the failed step"),
        ("status", "show the saved record"),
        ("destroy", "delete everything it made"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("  xwizard {cmd} {name}"), t.key),
            Span::raw(format!("  {what}")),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Kept", t.title));
    let done: Vec<&str> = model
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Done)
        .map(|s| s.id.as_str())
        .collect();
    lines.push(Line::raw(ellipsize(
        &if done.is_empty() {
            "  no step had completed; nothing was deleted".to_string()
        } else {
            format!("  done and left as they are: {}", done.join(", "))
        },
        width,
    )));
    if let Some(stack) = model.stack.as_ref().filter(|s| s.step == f.step) {
        lines.push(Line::raw(ellipsize(
            &format!(
                "  stack {} is {}",
                stack.name,
                stack.status.as_deref().unwrap_or("in an unknown state")
            ),
            width,
        )));
    }
    lines.push(Line::raw(ellipsize(
        &format!("  the record of {name} is saved: every step's status and outputs"),
        width,
    )));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, " What went wrong ")),
        area,
    );
}
