//! Cleanup: what will be deleted, in which account and in what order; its progress; and what
//! was left behind, with what to do about it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::{Key, block, render_nothing, who, with_tests_help_quit};
use crate::engine::Question;
use crate::ui::tui::model::{Deletion, Model, ellipsize};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    if matches!(model.question, Some(Question::Destroy { .. })) {
        let mut keys = vec![("y", "delete all"), ("n", "keep everything")];
        // Offered from the test results: they stay one key away.
        if !model.checks.is_empty() {
            keys.push(("t", "results"));
        }
        keys.extend([("?", "help"), ("q", "quit")]);
        return keys;
    }
    let mut keys = Vec::new();
    if !model.steps.is_empty() {
        keys.push(("l", "deployment"));
    }
    with_tests_help_quit(model, keys)
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let Some(c) = &model.cleanup else {
        render_nothing(t, frame, area, "Nothing to clean up.", " Cleanup ");
        return;
    };
    let name = model
        .deployment_name()
        .or(match &model.question {
            Some(Question::Destroy { deployment, .. }) => Some(deployment.as_str()),
            _ => None,
        })
        .unwrap_or("this deployment")
        .to_string();
    let width = area.width.saturating_sub(2) as usize;
    let deleted = c
        .stacks
        .iter()
        .filter(|s| s.state == Deletion::Deleted)
        .count();
    let asking = matches!(model.question, Some(Question::Destroy { .. }));
    let headline = if asking {
        Line::styled(
            format!("Delete every stack of {name}, in this order?"),
            t.title,
        )
    } else if model.finished.is_some() && c.clean {
        Line::styled(
            if c.kept.is_empty() {
                format!("✔ {name} is gone: nothing of it is left in either account")
            } else {
                format!("✔ {name} is gone: nothing of it is left but what is kept on purpose")
            },
            t.ok,
        )
    } else if model.finished.is_some() {
        Line::styled(
            format!(
                "✘ cleanup incomplete: {deleted} of {} stacks deleted",
                c.stacks.len()
            ),
            t.fail,
        )
    } else {
        Line::styled(
            format!("Deleting: {deleted} of {} stacks deleted", c.stacks.len()),
            t.busy,
        )
    };
    let causes = c
        .failures
        .iter()
        .filter(|(_, cause)| cause.is_some())
        .count();
    let trouble = c.leftovers.len() + c.failures.len() + causes;
    // A line per kept item, and room for why they are kept to wrap over two lines.
    let kept_lines = if c.kept.is_empty() {
        0
    } else {
        c.kept.len() as u16 + 2
    };
    let bottom = if trouble > 0 {
        (trouble as u16 + kept_lines + 4).min(area.height / 2)
    } else {
        (4 + kept_lines).min(area.height / 2)
    };
    let [head, table_area, below] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(4),
        Constraint::Length(bottom),
    ])
    .areas(area);
    let order = if asking {
        "A wave's stacks go together; the next wave waits until they are gone."
    } else {
        ""
    };
    frame.render_widget(
        Paragraph::new(vec![headline, Line::styled(order, t.dim)]),
        head,
    );

    let rows = c.stacks.iter().enumerate().map(|(i, s)| {
        let (icon, state, style) = match s.state {
            Deletion::Waiting => ("·", "to delete", t.text),
            Deletion::Deleting => ("▶", "deleting", t.busy),
            Deletion::Deleted => ("✔", "deleted", t.ok),
            Deletion::Failed => ("✘", "failed", t.fail),
        };
        Row::new(vec![
            Cell::from(format!("{}.", i + 1)),
            Cell::from(ellipsize(&s.stack, 30)),
            Cell::from(who(model, &s.account_id)),
            Cell::from(format!("wave {}", s.wave + 1)),
            Cell::from(format!("{icon} {state}")).style(style),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Length(30),
            Constraint::Length(23),
            Constraint::Length(6),
            Constraint::Min(9),
        ],
    )
    .block(block(t, " Stacks "));
    frame.render_widget(table, table_area);

    let mut lines = Vec::new();
    if trouble == 0 {
        let now = model.stack.as_ref().and_then(|s| {
            s.resources
                .iter()
                .rev()
                .find(|r| r.status.ends_with("IN_PROGRESS"))
                .map(|r| format!("now: {} {} ({})", r.logical_id, r.status, s.name))
        });
        let note = if c.clean {
            "Both accounts were searched: no stack, VPC, endpoint or secret of it is left."
        } else if asking {
            "Stacks are deleted with the profile of their own account."
        } else {
            ""
        };
        let now = if c.clean { None } else { now };
        lines.push(Line::raw(ellipsize(
            &now.unwrap_or_else(|| note.to_string()),
            width,
        )));
        if asking {
            lines.push(Line::raw(format!(
                "n keeps everything: `xwizard destroy {name}` removes it later."
            )));
        }
    } else {
        for (f, cause) in &c.failures {
            lines.push(Line::styled(ellipsize(&format!("✘ {f}"), width), t.fail));
            if let Some(rc) = cause {
                let text = format!("  {} {}: {}", rc.logical_id, rc.status, rc.reason);
                lines.push(Line::raw(ellipsize(&text, width)));
            }
        }
        for l in &c.leftovers {
            lines.push(Line::from(vec![
                Span::styled("still there: ", t.warn),
                Span::raw(ellipsize(l, width.saturating_sub(13))),
            ]));
        }
        lines.push(Line::raw(ellipsize(
            &format!("remove what blocks it, then `xwizard destroy {name}` again"),
            width,
        )));
    }
    // Each item is "<what>, <why>": the what on its own line, each distinct why once below.
    let mut whys: Vec<&str> = Vec::new();
    for k in &c.kept {
        let (what, why) = k.split_once(", ").unwrap_or((k, ""));
        lines.push(Line::from(vec![
            Span::styled("kept: ", t.title),
            Span::raw(ellipsize(&short_role(model, what), width.saturating_sub(6))),
        ]));
        if !why.is_empty() && !whys.contains(&why) {
            whys.push(why);
        }
    }
    lines.extend(
        whys.into_iter()
            .map(|why| Line::styled(why.to_string(), t.dim)),
    );
    let title = if trouble > 0 {
        " Left behind "
    } else {
        " Progress "
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, title)),
        below,
    );
}

/// "role <name> · producer · 111111111111" for "arn:aws:iam::111111111111:role/<name> (…)":
/// the full ARN is in the log; here it must fit one line.
fn short_role(model: &Model, what: &str) -> String {
    let arn = what.split(' ').next().unwrap_or(what);
    let account = arn.split(':').nth(4).unwrap_or_default();
    match arn.rsplit_once(":role/") {
        Some((_, path_and_name)) if !account.is_empty() => {
            let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
            format!("role {name} · {}", who(model, account))
        }
        _ => what.to_string(),
    }
}
