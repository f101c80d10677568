//! Pattern choice: both patterns listed, and for the one under the cursor its picture, what
//! it builds, what it roughly costs and what it needs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Key, block};
use crate::plan::Pattern;
use crate::ui::tui::model::{Model, ellipsize, wrap};

pub(super) fn keys() -> Vec<Key> {
    vec![
        ("Enter", "choose"),
        ("↑↓", "switch"),
        ("Esc", "back"),
        ("?", "help"),
        ("q", "quit"),
    ]
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let about = model.pattern.about();
    let inner = area.width.saturating_sub(2);
    let outer = block(t, " Which pattern? ");
    let body = outer.inner(area);
    frame.render_widget(outer, area);
    let listed = Pattern::ALL.len() as u16;
    let needed = [about.creates, about.cost, about.needs]
        .iter()
        .map(|text| wrap(text, usize::from(inner).saturating_sub(9), 0).len() as u16)
        .sum::<u16>();
    // The choices and what the pattern makes, costs and needs come first. A diagram is drawn
    // whole or not at all: never wrapped nor cut, the narrow one where the wide one does
    // not fit, none where neither does (a larger window shows it).
    let fits = |d: &str| {
        let width = d.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        let height = d.lines().count() as u16;
        usize::from(inner) >= width && listed + height + needed <= body.height
    };
    let diagram = [about.diagram, about.narrow_diagram]
        .into_iter()
        .find(|d| fits(d))
        .unwrap_or("");
    let [list, picture, text] = Layout::vertical([
        Constraint::Length(listed),
        Constraint::Length(diagram.lines().count() as u16),
        Constraint::Min(0),
    ])
    .areas(body);
    let choices: Vec<Line> = Pattern::ALL
        .iter()
        .map(|p| {
            let (mark, style) = if *p == model.pattern {
                ("▸", t.selected)
            } else {
                (" ", t.text)
            };
            Line::styled(
                ellipsize(
                    &format!("{mark} {}. {}", p.number(), p.title()),
                    usize::from(inner),
                ),
                style,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(choices), list);
    frame.render_widget(
        Paragraph::new(
            diagram
                .lines()
                .map(|l| Line::styled(l.to_string(), t.dim))
                .collect::<Vec<_>>(),
        ),
        picture,
    );
    let mut lines = Vec::new();
    for (label, text) in [
        ("Creates  ", about.creates),
        ("Cost     ", about.cost),
        ("You need ", about.needs),
    ] {
        for (i, row) in wrap(text, usize::from(inner).saturating_sub(9), 0)
            .into_iter()
            .enumerate()
        {
            let head = if i == 0 { label } else { "         " };
            lines.push(Line::from(vec![
                Span::styled(head, t.title),
                Span::raw(row),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines), text);
}
