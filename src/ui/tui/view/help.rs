//! `?`: every key of the current screen, and the ones that work everywhere.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Key, block, centered};
use crate::ui::tui::model::{Model, Screen, wrap};

/// What the keys of the screen do beyond their one-word names.
fn notes(model: &Model) -> Vec<&'static str> {
    match model.screen {
        Screen::PatternChoice => vec![
            "↑↓ (or j k) move between the patterns, 1 or 2 picks one; Enter goes on with the \
             one marked ▸.",
        ],
        Screen::Connection => vec![
            "a accepts: the endpoint may call the service. r rejects, after a y/n: a rejected \
             endpoint cannot ask again. l (or Esc) leaves it pending: the run ends waiting, \
             and `xwizard resume <name>` asks again.",
        ],
        _ => Vec::new(),
    }
}

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
    let notes = notes(model);
    if !notes.is_empty() {
        lines.push(Line::raw(""));
        for note in notes {
            for row in wrap(note, 58, 2) {
                lines.push(Line::styled(format!("  {row}"), t.dim));
            }
        }
    }
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
