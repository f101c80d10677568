//! Live deployment: steps with status and timers, the current stack's resources, the event
//! log (growing with the terminal, scrollable) and the outputs; `r` and `o` show resources and
//! outputs in full. Below 80×22 the steps fold into one line so the log keeps its room.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table, Wrap};

use super::{Key, block};
use crate::state::StepStatus;
use crate::ui::tui::model::{Finished, Model, ellipsize, fmt_duration, wrap};
use crate::ui::tui::theme::Theme;

/// Rows PgUp and PgDn move the event log and the full views by.
pub const PAGE: usize = 10;

pub(super) fn keys(model: &Model) -> Vec<Key> {
    let mut keys = Vec::new();
    if model.stack.is_some() {
        keys.push(("r", "resources"));
    }
    if !model.outputs.is_empty() {
        keys.push(("o", "outputs"));
    }
    if !model.checks.is_empty() || model.retrying.is_some() {
        keys.push(("t", "tests"));
    }
    if model.failure.is_some() {
        keys.push(("e", "error"));
    }
    if model.cleanup.is_some() {
        keys.push(("c", "cleanup"));
    }
    if !model.running() {
        keys.push(("Esc", "deployments"));
    }
    keys.extend([
        ("↑↓ PgUp PgDn End", "scroll events"),
        ("?", "help"),
        ("q", "quit"),
    ]);
    keys
}

/// The keys of the resources and outputs views.
pub(super) fn detail_keys() -> Vec<Key> {
    vec![("↑↓ PgUp PgDn", "scroll"), ("Esc", "back"), ("q", "quit")]
}

pub(super) fn step_icon(t: &Theme, status: StepStatus) -> Span<'static> {
    match status {
        StepStatus::Pending => Span::styled("·", t.dim),
        StepStatus::Running => Span::styled("▶", t.busy),
        StepStatus::Done => Span::styled("✔", t.ok),
        StepStatus::Failed => Span::styled("✘", t.fail),
        StepStatus::Destroyed => Span::styled("⌫", t.dim),
        StepStatus::Waiting => Span::styled("⏸", t.busy),
    }
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let compact = area.width < 80 || area.height < 22;
    let bottom_height = if let Some(f) = &model.failure {
        // The cause and what to do next, whole, up to a third of the screen.
        let width = area.width.saturating_sub(2) as usize;
        let rows = wrap(&failure_text(f), width, 0).len() + wrap(&f.next, width, 0).len();
        (rows as u16 + 2).min(area.height / 3).max(4)
    } else if compact {
        0
    } else {
        // A few outputs in sight; `o` shows them all.
        (model.outputs.len() as u16).clamp(1, (area.height / 8).max(1)) + 2
    };
    let resources = model.stack.as_ref().map_or(1, |s| s.resources.len()) as u16;
    // A step that waits for the user takes the stack's pane, whole: what waits and the
    // command that answers it matter more than the stack last followed.
    let waiting_height = |width: u16| {
        model
            .waiting
            .as_ref()
            .map(|w| waiting_rows(w, width.saturating_sub(2) as usize).len() as u16 + 2)
    };
    let (top, log, bottom) = if compact {
        let room = area.height.saturating_sub(1 + 3 + bottom_height);
        let stack_height = match waiting_height(area.width) {
            Some(rows) => rows.min(room),
            None => (resources + 3).clamp(4, (area.height - 1) / 2),
        };
        let [strip, stack, log, bottom] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(stack_height),
            Constraint::Min(3),
            Constraint::Length(bottom_height),
        ])
        .areas(area);
        render_strip(model, frame, strip);
        render_stack(model, frame, stack);
        (None, log, bottom)
    } else {
        let steps_height = model.steps.len() as u16 + 2;
        let pane = match waiting_height(area.width.saturating_sub(STEPS_WIDTH)) {
            Some(rows) => rows.min(area.height.saturating_sub(5 + bottom_height)),
            None => (resources + 3).min(area.height * 2 / 5),
        };
        let top_height = steps_height.max(pane);
        let [top, log, bottom] = Layout::vertical([
            Constraint::Length(top_height),
            Constraint::Min(5),
            Constraint::Length(bottom_height),
        ])
        .areas(area);
        (Some(top), log, bottom)
    };
    if let Some(top) = top {
        let [steps_area, stack_area] =
            Layout::horizontal([Constraint::Length(STEPS_WIDTH), Constraint::Min(30)]).areas(top);
        render_steps(model, frame, steps_area);
        render_stack(model, frame, stack_area);
    }
    render_log(model, frame, log);
    if model.failure.is_some() {
        render_failure(model, frame, bottom);
    } else if bottom.height > 0 {
        render_outputs(model, frame, bottom);
    }
}

/// The steps pane's width, beside the stack's.
const STEPS_WIDTH: u16 = 32;

/// A running step's time, or a finished one's; empty before it starts.
fn step_time(model: &Model, row: &crate::ui::tui::model::StepRow) -> String {
    match (row.status, row.time(model.now, model.asked_since)) {
        (StepStatus::Pending | StepStatus::Destroyed, _) | (_, None) => String::new(),
        (_, Some(d)) => fmt_duration(d),
    }
}

/// The steps in one line, for a small terminal: their icons, then the current one named.
fn render_strip(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let mut spans: Vec<Span> = model.steps.iter().map(|s| step_icon(t, s.status)).collect();
    let current = model
        .steps
        .iter()
        .position(|s| s.status == StepStatus::Running)
        .or_else(|| {
            model
                .steps
                .iter()
                .position(|s| s.status == StepStatus::Failed)
        });
    if let Some(i) = current {
        let row = &model.steps[i];
        spans.push(Span::raw(format!(
            " {} of {}: {} {}",
            i + 1,
            model.steps.len(),
            row.id,
            step_time(model, row)
        )));
    } else {
        let done = model
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Done)
            .count();
        spans.push(Span::raw(format!(" {done} of {} done", model.steps.len())));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_steps(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let inner = area.width.saturating_sub(2) as usize;
    let id_width = inner.saturating_sub(9);
    let lines: Vec<Line> = model
        .steps
        .iter()
        .map(|s| {
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
                Span::raw(format!(" {:>5}", step_time(model, s))),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Steps · P/C account ")),
        area,
    );
}

/// What the pane says when no stack is followed: the step at work, or how the run ended.
fn now_text(model: &Model) -> String {
    if let Some(s) = model.steps.iter().find(|s| s.status == StepStatus::Running) {
        return s.title.clone();
    }
    match model.finished {
        Some(Finished::Run(status)) => {
            format!("The run is over: {status}. Esc goes back to the deployments.")
        }
        Some(Finished::Stopped) => "The run stopped: e shows why.".into(),
        None if model.running() => "waiting for the next step".into(),
        None => "Nothing is running. Esc goes back to the deployments.".into(),
    }
}

fn render_stack(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    if model.waiting.is_some() {
        render_waiting(model, frame, area);
        return;
    }
    let Some(stack) = &model.stack else {
        frame.render_widget(
            Paragraph::new(now_text(model))
                .wrap(Wrap { trim: false })
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
    // "CREATE_IN_PROGRESS" whole: the status matters more than the end of a long name.
    let status_width = if inner >= 40 { 18 } else { inner / 3 };
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
    // Names are cut at their end, as a reader scans them; `r` shows each in full.
    let rows = stack.resources.iter().skip(skip).map(|r| {
        let mut cells = vec![Cell::from(ellipsize(&r.logical_id, id_width))];
        if wide {
            let ty = r.resource_type.trim_start_matches("AWS::");
            cells.push(Cell::from(ellipsize(ty, type_width)).style(t.dim));
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

/// The log as screen rows at `width`: long lines wrap under their text instead of being cut.
pub(crate) fn log_rows(model: &Model, width: usize) -> Vec<(String, bool)> {
    model
        .log
        .iter()
        .flat_map(|l| {
            let failed = l.contains("FAILED") || l.starts_with('✘');
            // Event lines start with a time: their continuation rows sit under the status.
            let indent = if l.as_bytes().get(2) == Some(&b':') {
                9
            } else {
                2
            };
            wrap(l, width, indent)
                .into_iter()
                .map(move |row| (row, failed))
        })
        .collect()
}

fn render_log(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let rows = log_rows(model, width);
    let back = model.log_scroll.min(rows.len().saturating_sub(height));
    let end = rows.len() - back;
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = rows[start..end]
        .iter()
        .map(|(row, failed)| Line::styled(row.clone(), if *failed { t.fail } else { t.text }))
        .collect();
    let title = if back > 0 {
        format!(" Events ({back} rows back · End follows) ")
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
    let title = match model.outputs.len() {
        0 => " Outputs (none yet) ".to_string(),
        n if n > height => format!(" Outputs ({height} newest of {n} · o: all) "),
        n => format!(" Outputs ({n} · o: in full) "),
    };
    frame.render_widget(Paragraph::new(lines).block(block(t, title)), area);
}

/// "✘ producer: ProducerApiAuthorizer CREATE_FAILED: …", the root cause when one is known.
fn failure_text(f: &crate::ui::tui::model::Failure) -> String {
    let cause = f.root_cause.as_ref().map_or(f.message.clone(), |c| {
        format!("{} {}: {}", c.logical_id, c.status, c.reason)
    });
    format!("✘ {}: {cause}", f.step)
}

fn render_failure(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let Some(f) = &model.failure else { return };
    let lines = vec![
        Line::styled(failure_text(f), t.fail),
        Line::raw(format!("next: {}", f.next)),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, " Failed (e: in full) ")),
        area,
    );
}

/// "⏸ accept-connection waits: …" then "next: …", wrapped to `width`.
fn waiting_rows(w: &crate::ui::tui::model::Waiting, width: usize) -> Vec<(String, bool)> {
    let mut rows: Vec<(String, bool)> = wrap(&format!("⏸ {}: {}", w.step, w.message), width, 2)
        .into_iter()
        .map(|r| (r, true))
        .collect();
    rows.extend(
        wrap(&format!("next: {}", w.next), width, 6)
            .into_iter()
            .map(|r| (r, false)),
    );
    rows
}

/// A step that waits for the user: not a failure, so said in the busy colour, with the
/// command that carries on.
fn render_waiting(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let Some(w) = &model.waiting else { return };
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = waiting_rows(w, width)
        .into_iter()
        .map(|(row, what)| Line::styled(row, if what { t.busy } else { t.text }))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Waits for your answer ")),
        area,
    );
}

/// A full view over the body: `lines` scrolled by `detail_scroll`.
fn render_full(model: &Model, frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>) {
    let t = &model.theme;
    let height = area.height.saturating_sub(2) as usize;
    let scroll = model.detail_scroll.min(lines.len().saturating_sub(height));
    let more = lines.len().saturating_sub(scroll + height);
    let title = if more > 0 {
        format!(" {title} · {more} more rows below (↓) ")
    } else {
        format!(" {title} ")
    };
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(height).collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(shown).block(block(t, title)), area);
}

/// `r`: every resource of the stack followed, with full names, types, status and reasons.
pub(super) fn render_resources(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    let title = match &model.stack {
        None => "Resources (no stack followed)".to_string(),
        Some(stack) => {
            for r in &stack.resources {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<6}", fmt_duration(r.elapsed(model.now))), t.dim),
                    Span::styled(r.status.clone(), t.status(&r.status)),
                    Span::raw(" "),
                    Span::styled(r.logical_id.clone(), t.title),
                ]));
                for row in wrap(&r.resource_type, width.saturating_sub(6), 0) {
                    lines.push(Line::styled(format!("      {row}"), t.dim));
                }
                if !r.reason.is_empty() {
                    for row in wrap(&r.reason, width.saturating_sub(6), 0) {
                        lines.push(Line::raw(format!("      {row}")));
                    }
                }
            }
            format!(
                "{} {} · {} resources",
                stack.name,
                stack.status.as_deref().unwrap_or(""),
                stack.resources.len()
            )
        }
    };
    render_full(model, frame, area, &title, lines);
}

/// `o`: every output of the run, its value in full.
pub(super) fn render_all_outputs(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = Vec::new();
    for (step, key, value) in &model.outputs {
        lines.push(Line::from(vec![
            Span::styled(format!("{step} · "), t.dim),
            Span::styled(key.clone(), t.title),
        ]));
        for row in wrap(value, width.saturating_sub(2), 0) {
            lines.push(Line::raw(format!("  {row}")));
        }
    }
    let title = format!("Outputs · {}", model.outputs.len());
    render_full(model, frame, area, &title, lines);
}
