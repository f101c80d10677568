//! Home: the saved deployments, or how to start the first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

use super::{Key, block};
use crate::ui::tui::model::{Model, ellipsize};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    let mut keys = vec![("n", "new")];
    if !model.deployments.is_empty() {
        keys.extend([
            ("↑↓", "select"),
            ("r", "resume"),
            ("t", "test"),
            ("d", "destroy"),
        ]);
    }
    keys.extend([("?", "help"), ("q", "quit")]);
    keys
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    if model.deployments.is_empty() {
        let text = vec![
            Line::raw(""),
            Line::styled("No deployments yet.", t.title),
            Line::raw(""),
            Line::from(vec![
                Span::raw("Press "),
                Span::styled("n", t.key),
                Span::raw(" to deploy the cross-account private API pattern across a"),
            ]),
            Line::raw("producer and a consumer AWS account."),
            Line::raw(""),
            Line::raw("No AWS account at hand? `xwizard sandbox` rehearses it all locally."),
        ];
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .block(block(t, " xwizard ")),
            area,
        );
        return;
    }
    let [list, detail] = Layout::vertical([Constraint::Min(4), Constraint::Length(8)]).areas(area);
    // Below 80 columns the accounts give way: the detail box below names them.
    let narrow = area.width < 80;
    let header = if narrow {
        Row::new(["name", "pat", "status", "region", "updated"])
    } else {
        Row::new([
            "name", "pat", "status", "producer", "consumer", "region", "updated",
        ])
    }
    .style(t.dim);
    let rows = model.deployments.iter().enumerate().map(|(i, d)| {
        let summary = d.summary();
        let style = match summary {
            "failed" => t.fail,
            "deployed" => t.ok,
            "interrupted" | "incomplete" => t.busy,
            _ => t.text,
        };
        let mut cells = vec![
            ratatui::widgets::Cell::from(ellipsize(&d.name, 20)),
            d.pattern.number().to_string().into(),
            ratatui::widgets::Cell::from(summary).style(style),
        ];
        if !narrow {
            cells.push(d.producer.account_id.clone().into());
            cells.push(d.consumer.account_id.clone().into());
        }
        cells.push(d.region.clone().into());
        // Rows are sorted by their last change: the age shown is that one.
        cells.push(crate::ui::age(model.listed_at.saturating_sub(d.updated_at)).into());
        let row = Row::new(cells);
        if i == model.home_cursor {
            row.style(t.selected)
        } else {
            row
        }
    });
    let widths = if narrow {
        vec![
            Constraint::Length(20),
            Constraint::Length(3),
            Constraint::Length(11),
            Constraint::Length(12),
            Constraint::Min(4),
        ]
    } else {
        vec![
            Constraint::Length(20),
            Constraint::Length(3),
            Constraint::Length(11),
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Length(10),
            Constraint::Min(4),
        ]
    };
    let table = Table::new(rows, widths).header(header).block(block(
        t,
        format!(" {} deployments ", model.deployments.len()),
    ));
    frame.render_widget(table, list);

    let mut lines = Vec::new();
    if let Some(d) = model.selected_deployment() {
        for role in crate::plan::Role::BOTH {
            let a = d.account(role);
            lines.push(Line::raw(format!(
                "{role:<9} {} (profile {})",
                a.account_id, a.profile
            )));
        }
        let failed = d
            .steps
            .iter()
            .find_map(|(id, s)| s.failure.as_ref().map(|f| (id, f)));
        match failed {
            Some((id, f)) => {
                let cause = f.root_cause.as_ref().map_or(f.message.clone(), |c| {
                    format!("{} {}: {}", c.logical_id, c.status, c.reason)
                });
                lines.push(Line::styled(format!("✘ {id}: {cause}"), t.fail));
                lines.push(Line::raw(format!("next: {}", f.next)));
            }
            None => lines.push(Line::raw(format!(
                "{} of {} steps done",
                d.steps
                    .values()
                    .filter(|s| s.status == crate::state::StepStatus::Done)
                    .count(),
                d.pattern.steps().len()
            ))),
        }
    }
    let title = model
        .selected_deployment()
        .map_or(String::new(), |d| format!(" {} ", d.name));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, title)),
        detail,
    );
}
