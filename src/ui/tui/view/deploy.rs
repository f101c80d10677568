//! Live deployment: steps with status and timers on the left, the current stack's resources
//! on the right, the event log and the outputs below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{Key, block};
use crate::state::StepStatus;
use crate::ui::tui::model::{Model, ellipsize, ellipsize_middle, fmt_duration};
use crate::ui::tui::theme::Theme;

pub(super) fn keys(model: &Model) -> Vec<Key> {
    let mut keys = vec![("↑↓", "scroll log")];
    if !model.checks.is_empty() {
        keys.push(("t", "tests"));
    }
    if model.failure.is_some() {
        keys.push(("e", "error"));
    }
    if model.cleanup.is_some() {
        keys.push(("c", "cleanup"));
    }
    keys.extend([("?", "help"), ("q", "quit")]);
    keys
}

pub(super) fn step_icon(t: &Theme, status: StepStatus) -> Span<'static> {
    match status {
        StepStatus::Pending => Span::styled("·", t.dim),
        StepStatus::Running => Span::styled("▶", t.busy),
        StepStatus::Done => Span::styled("✔", t.ok),
        StepStatus::Failed => Span::styled("✘", t.fail),
        StepStatus::Destroyed => Span::styled("⌫", t.dim),
    }
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let big = area.height > 30;
    let log_height = if big { 12 } else { 7 };
    let bottom_height = if model.failure.is_some() {
        4
    } else {
        (model.outputs.len() as u16 + 2).clamp(3, if big { 8 } else { 4 })
    };
    let [main, log, bottom] = Layout::vertical([
        Constraint::Min(9),
        Constraint::Length(log_height),
        Constraint::Length(bottom_height),
    ])
    .areas(area);
    let [steps_area, stack_area] =
        Layout::horizontal([Constraint::Length(32), Constraint::Min(30)]).areas(main);
    render_steps(model, frame, steps_area);
    render_stack(model, frame, stack_area);
    render_log(model, frame, log);
    if model.failure.is_some() {
        render_failure(model, frame, bottom);
    } else {
        render_outputs(model, frame, bottom);
    }
}

fn render_steps(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let inner = area.width.saturating_sub(2) as usize;
    let id_width = inner.saturating_sub(9);
    let lines: Vec<Line> = model
        .steps
        .iter()
        .map(|s| {
            let time = match (s.took, s.started, s.status) {
                (Some(d), _, _) => fmt_duration(d),
                (None, Some(start), StepStatus::Running) => {
                    fmt_duration(model.now.saturating_duration_since(start))
                }
                _ => String::new(),
            };
            let role = match s.role {
                crate::plan::Role::Producer => "P",
                crate::plan::Role::Consumer => "C",
            };
            let style = if s.status == StepStatus::Running {
                t.title
            } else {
                t.text
            };
            Line::from(vec![
                step_icon(t, s.status),
                Span::styled(format!("{role} "), t.dim),
                Span::styled(format!("{:<id_width$}", ellipsize(&s.id, id_width)), style),
                Span::raw(format!(" {time:>5}")),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Steps · P/C account ")),
        area,
    );
}

fn render_stack(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let Some(stack) = &model.stack else {
        let current = model
            .steps
            .iter()
            .find(|s| s.status == StepStatus::Running)
            .map_or("waiting for the next step".to_string(), |s| s.title.clone());
        frame.render_widget(
            Paragraph::new(current)
                .wrap(ratatui::widgets::Wrap { trim: false })
                .block(block(t, " Now ")),
            area,
        );
        return;
    };
    let inner = area.width.saturating_sub(2) as usize;
    let status = stack.status.as_deref().unwrap_or("");
    let title = ellipsize(&format!(" {} {status} ", stack.name), inner);
    let wide = inner >= 70;
    let visible = area.height.saturating_sub(3) as usize;
    let skip = stack.resources.len().saturating_sub(visible);
    let status_width = 20;
    let time_width = 5;
    let id_width = if wide {
        // What is left beside the type column (~24 wide) goes to the logical id.
        inner
            .saturating_sub(status_width + time_width + 3 + 24)
            .clamp(20, 40)
    } else {
        inner.saturating_sub(status_width + time_width + 2)
    };
    let type_width = inner.saturating_sub(id_width + status_width + time_width + 3);
    let rows = stack.resources.iter().skip(skip).map(|r| {
        let mut cells = vec![Cell::from(ellipsize_middle(&r.logical_id, id_width))];
        if wide {
            let ty = r.resource_type.trim_start_matches("AWS::");
            cells.push(Cell::from(ellipsize_middle(ty, type_width)).style(t.dim));
        }
        cells.push(Cell::from(ellipsize(&r.status, status_width)).style(t.status(&r.status)));
        cells.push(Cell::from(format!(
            "{:>5}",
            fmt_duration(r.elapsed(model.now))
        )));
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(id_width as u16)];
    let mut header = vec!["resource"];
    if wide {
        widths.push(Constraint::Length(type_width as u16));
        header.push("type");
    }
    widths.extend([
        Constraint::Length(status_width as u16),
        Constraint::Length(time_width as u16),
    ]);
    header.extend(["status", "time"]);
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.dim))
        .block(block(t, title));
    frame.render_widget(table, area);
}

fn render_log(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let end = model.log.len().saturating_sub(model.log_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = model
        .log
        .iter()
        .skip(start)
        .take(end - start)
        .map(|l| {
            let style = if l.contains("FAILED") || l.starts_with('✘') {
                t.fail
            } else {
                t.text
            };
            Line::styled(ellipsize(l, width), style)
        })
        .collect();
    let title = if model.log_scroll > 0 {
        format!(" Events ({} lines back, ↓ to follow) ", model.log_scroll)
    } else {
        " Events ".to_string()
    };
    frame.render_widget(Paragraph::new(lines).block(block(t, title)), area);
}

fn render_outputs(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let skip = model.outputs.len().saturating_sub(height);
    let lines: Vec<Line> = model
        .outputs
        .iter()
        .skip(skip)
        .map(|(_, k, v)| {
            Line::from(vec![
                Span::styled(format!("{k} = "), t.dim),
                Span::raw(ellipsize(v, width.saturating_sub(k.chars().count() + 3))),
            ])
        })
        .collect();
    let title = if model.outputs.is_empty() {
        " Outputs (none yet) ".to_string()
    } else {
        format!(" Outputs ({}) ", model.outputs.len())
    };
    frame.render_widget(Paragraph::new(lines).block(block(t, title)), area);
}

fn render_failure(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let Some(f) = &model.failure else { return };
    let width = area.width.saturating_sub(2) as usize;
    let cause = f.root_cause.as_ref().map_or(f.message.clone(), |c| {
        format!("{} {}: {}", c.logical_id, c.status, c.reason)
    });
    let lines = vec![
        Line::styled(ellipsize(&format!("✘ {}: {cause}", f.step), width), t.fail),
        Line::raw(ellipsize(&format!("next: {}", f.next), width)),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Failed (e: details) ")),
        area,
    );
}
