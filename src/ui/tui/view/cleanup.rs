//! Cleanup: what will be deleted, in which account and in what order; its progress; and what
//! was left behind, with what to do about it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::{Key, block, render_nothing, who, with_tests_help_quit};
use crate::engine::Question;
use crate::ui::tui::model::{Deletion, Model, ellipsize, fmt_duration};

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
    } + c.removed.len() as u16;
    let busy = c.in_progress.len() as u16;
    let bottom = if trouble > 0 {
        (trouble as u16 + kept_lines + 4).min(area.height / 2)
    } else {
        (4 + kept_lines + busy).min(area.height / 2)
    };
    let [head, table_area, below] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length((c.stacks.len() as u16 + 2).max(3)),
        Constraint::Min(bottom.min(4)),
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

    // On a narrow terminal the account column gives way to the stack names.
    let narrow = table_area.width < 78;
    let stack_width = if narrow {
        // Borders, number, role, wave and state columns, and the gaps between the five.
        table_area.width.saturating_sub(2 + 3 + 9 + 6 + 11 + 4) as usize
    } else {
        30
    };
    let rows = c.stacks.iter().enumerate().map(|(i, s)| {
        let account = match (narrow, s.role) {
            (true, Some(role)) => role.to_string(),
            _ => who(model, &s.account_id),
        };
        let (icon, state, style) = match s.state {
            Deletion::Waiting => ("·", "to delete", t.text),
            Deletion::Deleting => ("▶", "deleting", t.busy),
            Deletion::Deleted => ("✔", "deleted", t.ok),
            Deletion::Failed => ("✘", "failed", t.fail),
        };
        Row::new(vec![
            Cell::from(format!("{}.", i + 1)),
            Cell::from(ellipsize(&s.stack, stack_width)),
            Cell::from(account),
            Cell::from(format!("wave {}", s.wave + 1)),
            Cell::from(format!("{icon} {state}")).style(style),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Length(stack_width as u16),
            Constraint::Length(if narrow { 9 } else { 23 }),
            Constraint::Length(6),
            Constraint::Min(9),
        ],
    )
    .block(block(t, " Stacks "));
    frame.render_widget(table, table_area);

    let mut lines = Vec::new();
    if trouble == 0 {
        // Everything each stack is deleting now, with how long it has taken so far: a VPC
        // function's network interfaces can hold a stack for half an hour.
        for s in c.stacks.iter().filter(|s| s.state == Deletion::Deleting) {
            if !c.in_progress.iter().any(|(stack, ..)| *stack == s.stack) {
                lines.push(Line::raw(ellipsize(
                    &format!("now: {} · CloudFormation is deleting the stack", s.step),
                    width,
                )));
            }
        }
        for (stack, logical_id, status, since) in &c.in_progress {
            let short = c
                .stacks
                .iter()
                .find(|s| s.stack == *stack)
                .map_or(stack.as_str(), |s| s.step.as_str());
            let took = fmt_duration(model.now.saturating_duration_since(*since));
            lines.push(Line::raw(ellipsize(
                &format!("now: {short} · {logical_id} {status} {took}"),
                width,
            )));
        }
        let note = if c.clean {
            "Both accounts were searched: no stack, VPC, endpoint or secret of it is left."
        } else if asking {
            "Stacks are deleted with the profile of their own account."
        } else {
            ""
        };
        if !lines.is_empty() && !note.is_empty() {
            lines.push(Line::raw(""));
        }
        if !note.is_empty() {
            lines.push(Line::raw(ellipsize(note, width)));
        }
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
    for item in &c.removed {
        lines.push(Line::from(vec![
            Span::styled("removed: ", t.ok),
            Span::raw(ellipsize(item, width.saturating_sub(9))),
        ]));
    }
    // Each kept item on its own line, each distinct why once below.
    let mut whys: Vec<&str> = Vec::new();
    for k in &c.kept {
        lines.push(Line::from(vec![
            Span::styled("kept: ", t.title),
            Span::raw(ellipsize(
                &short_role(model, &k.what),
                width.saturating_sub(6),
            )),
        ]));
        if !whys.contains(&k.why.as_str()) {
            whys.push(&k.why);
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
