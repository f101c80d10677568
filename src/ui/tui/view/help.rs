//! `?`: every key of the current screen, and the ones that work everywhere.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Key, block, centered};
use crate::ui::tui::model::Model;

pub(super) fn render(model: &Model, frame: &mut Frame, keys: &[Key]) {
    let t = &model.theme;
    let mut lines: Vec<Line> = keys
        .iter()
        .filter(|(k, _)| !matches!(*k, "?" | "q"))
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("  {k:<8}"), t.key),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled("  Everywhere", t.title));
    for (k, what) in [
        ("?", "this help (any key closes it)"),
        ("q", "quit (asks first while a run is on)"),
        ("Ctrl-C", "quit, also while typing"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("  {k:<8}"), t.key),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "  Quitting never deletes anything: `xwizard resume <name>`",
        t.dim,
    ));
    lines.push(Line::styled("  carries a deployment on.", t.dim));
    let area = centered(frame.area(), 64, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block(t, " Keys ")), area);
}
