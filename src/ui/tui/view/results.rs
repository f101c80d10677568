//! Test results: each call with its request, answer, latency and verdict.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Key, block};
use crate::ui::tui::model::{Model, ellipsize, ellipsize_middle};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    let mut keys = vec![("l", "deployment")];
    if model.cleanup.is_some() {
        keys.push(("c", "cleanup"));
    }
    keys.extend([("?", "help"), ("q", "quit")]);
    keys
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let width = area.width.saturating_sub(2) as usize;
    let passed = model.checks.iter().filter(|c| c.passed).count();
    let total = model.checks.len();
    let mut lines = vec![if passed == total {
        Line::styled(format!("✔ all {total} checks passed"), t.ok)
    } else {
        Line::styled(
            format!("✘ {} of {total} checks failed", total - passed),
            t.fail,
        )
    }];
    for c in &model.checks {
        let verdict = if c.passed {
            Span::styled("✔ PASS ", t.ok)
        } else {
            Span::styled("✘ FAIL ", t.fail)
        };
        lines.push(Line::from(vec![
            verdict,
            Span::styled(ellipsize(&c.name, width.saturating_sub(7)), t.title),
        ]));
        // The middle of a URL matters least; its path and the credential sent matter most.
        lines.push(Line::raw(format!(
            "  {}",
            ellipsize_middle(&c.request, width.saturating_sub(2))
        )));
        let status = c.status.map_or("no answer".to_string(), |s| s.to_string());
        lines.push(Line::styled(
            format!(
                "  → {status} in {} ms, expected {}",
                c.latency_ms, c.expected
            ),
            if c.passed { t.text } else { t.fail },
        ));
        lines.push(Line::styled(
            ellipsize(&format!("    {}", c.body.trim().replace('\n', " ")), width),
            t.dim,
        ));
    }
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Test calls from the consumer ")),
        area,
    );
}
