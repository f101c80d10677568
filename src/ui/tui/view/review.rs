//! Review: a change set before it is applied, access changes (IAM, security groups,
//! policies, keys) first and marked; or the other yes/no questions of a run.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::{Key, block, render_nothing, who};
use crate::engine::{ChangeView, Question};
use crate::ui::tui::model::{Model, ellipsize};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    match &model.question {
        Some(Question::ApplyChangeSet { .. }) => vec![
            ("y", "apply"),
            ("n", "don't apply (stop here)"),
            ("↑↓", "scroll"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Some(Question::DeleteFailedStack { .. }) => vec![
            ("y", "delete it"),
            ("n", "keep it (stop here)"),
            ("?", "help"),
            ("q", "quit"),
        ],
        _ => vec![("Esc", "back"), ("?", "help"), ("q", "quit")],
    }
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    match &model.question {
        Some(Question::ApplyChangeSet {
            stack,
            account_id,
            changes,
            ..
        }) => change_set(model, frame, area, stack, account_id, changes),
        Some(Question::DeleteFailedStack {
            stack,
            account_id,
            status,
            ..
        }) => {
            let lines = vec![
                Line::raw(format!(
                    "{stack} in {} is {status}.",
                    who(model, account_id)
                )),
                Line::raw(""),
                Line::raw("A stack that failed to create cannot be updated: it must be deleted"),
                Line::raw(
                    "before it can be made again. Nothing else of the deployment is touched.",
                ),
                Line::raw(""),
                Line::styled("Delete it and create it again?", t.title),
            ];
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(t, " Failed stack ")),
                area,
            );
        }
        _ => render_nothing(t, frame, area, "Nothing to review.", " Review "),
    }
}

fn change_set(
    model: &Model,
    frame: &mut Frame,
    area: Rect,
    stack: &str,
    account_id: &str,
    changes: &[ChangeView],
) {
    let t = &model.theme;
    let count = |a: &str| changes.iter().filter(|c| c.action == a).count();
    let replaced = changes
        .iter()
        .filter(|c| c.replacement.as_deref() == Some("True"))
        .count();
    let access = changes.iter().filter(|c| c.access).count();
    let [summary, table_area] =
        Layout::vertical([Constraint::Length(5), Constraint::Min(3)]).areas(area);
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = vec![
        Line::from(vec![
            Span::raw("Apply to "),
            Span::styled(ellipsize(stack, width.saturating_sub(9)), t.title),
        ]),
        Line::from(vec![
            Span::raw("in "),
            Span::styled(who(model, account_id), t.key),
            Span::raw(format!(
                ": {} to add, {} to modify, {} to remove, {replaced} replaced",
                count("Add"),
                count("Modify"),
                count("Remove")
            )),
        ]),
    ];
    lines.push(if access > 0 {
        Line::styled(
            format!(
                "! {access} access changes (IAM, security groups, policies, keys), listed first"
            ),
            t.access,
        )
    } else {
        Line::styled(
            "no access changes (IAM, security groups, policies, keys)",
            t.dim,
        )
    });
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Change set ")),
        summary,
    );

    let mut ordered: Vec<&ChangeView> = changes.iter().filter(|c| c.access).collect();
    ordered.extend(changes.iter().filter(|c| !c.access));
    let visible = table_area.height.saturating_sub(3) as usize;
    let scroll = model
        .review_scroll
        .min(ordered.len().saturating_sub(visible));
    let wide = table_area.width >= 100;
    let rows = ordered.iter().skip(scroll).map(|c| {
        let replacement = match c.replacement.as_deref() {
            Some("True") => "replace",
            Some("Conditional") => "maybe",
            _ => "",
        };
        let ty = if wide {
            c.resource_type.clone()
        } else {
            c.resource_type.trim_start_matches("AWS::").to_string()
        };
        let row = Row::new(vec![
            Cell::from(if c.access { "!" } else { " " }),
            Cell::from(c.action.clone()),
            Cell::from(ellipsize(&c.logical_id, if wide { 40 } else { 28 })),
            Cell::from(ellipsize(&ty, if wide { 45 } else { 30 })),
            Cell::from(replacement),
        ]);
        if c.access {
            row.style(t.access)
        } else if replacement == "replace" {
            row.style(t.warn)
        } else {
            row
        }
    });
    let more = ordered.len().saturating_sub(scroll + visible);
    let title = if more > 0 {
        format!(" {} changes · {more} more below (↓) ", ordered.len())
    } else {
        format!(" {} changes ", ordered.len())
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Length(6),
            Constraint::Length(if wide { 40 } else { 28 }),
            Constraint::Min(10),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(["", "action", "logical id", "type", "replace"]).style(t.dim))
    .block(block(t, title));
    frame.render_widget(table, table_area);
}
