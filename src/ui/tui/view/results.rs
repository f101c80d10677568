//! Test results: each call with its request, answer, latency and verdict.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Key, block};
use crate::engine::Question;
use crate::ui::tui::model::{Model, ellipsize, ellipsize_middle, wrap};

/// The cleanup question waiting on this screen, with the deployment it is about.
fn offered(model: &Model) -> Option<&str> {
    match &model.question {
        Some(Question::Destroy { deployment, .. }) => Some(deployment),
        _ => None,
    }
}

pub(super) fn keys(model: &Model) -> Vec<Key> {
    if offered(model).is_some() {
        return vec![
            ("c", "review the cleanup"),
            ("k", "keep it"),
            ("l", "deployment"),
            ("?", "help"),
            ("q", "quit"),
        ];
    }
    let mut keys = vec![("l", "deployment")];
    if model.cleanup.is_some() {
        keys.push(("c", "cleanup"));
    }
    keys.extend([("?", "help"), ("q", "quit")]);
    keys
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let area = match offered(model) {
        Some(name) => {
            let [results, prompt] =
                Layout::vertical([Constraint::Min(0), Constraint::Length(2)]).areas(area);
            let lines = vec![
                Line::from(vec![
                    Span::styled("Clean up now?  ", t.title),
                    Span::styled("c", t.key),
                    Span::raw(": review the cleanup · "),
                    Span::styled("k", t.key),
                    Span::raw(": keep it"),
                ]),
                Line::styled(
                    format!(
                        "k keeps everything as it is: `xwizard destroy {name}` removes it later."
                    ),
                    t.dim,
                ),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), prompt);
            results
        }
        None => area,
    };
    let width = area.width.saturating_sub(2) as usize;
    let passed = model.checks.iter().filter(|c| c.passed).count();
    let total = model.checks.len();
    let mut lines = vec![match (&model.retrying, total - passed) {
        (Some(r), _) => Line::styled(
            format!(
                "… {passed} of {total} checks passed so far; {} is asking again",
                r.check
            ),
            t.busy,
        ),
        (None, 0) => Line::styled(format!("✔ all {total} checks passed"), t.ok),
        (None, failed) => Line::styled(format!("✘ {failed} of {total} checks failed"), t.fail),
    }];
    // Every check stays in sight: where the screen is short, a passed check gives up its body,
    // then its request, keeping its verdict, status and expectation; a failed one keeps all.
    let room = area.height.saturating_sub(2) as usize;
    let all_lines = 1 + 4 * total; // the summary, then four lines a check
    let (passed_body, passed_request) = if all_lines <= room {
        (true, true)
    } else if all_lines - passed <= room {
        (false, true)
    } else {
        (false, false)
    };
    // Each answer a check had before its verdict, in full: why it asked again.
    let attempt_lines = |lines: &mut Vec<Line>, attempts: &[(u32, String)]| {
        for (attempt, cause) in attempts {
            for row in wrap(
                &format!("attempt {attempt}: {cause}"),
                width.saturating_sub(4),
                2,
            ) {
                lines.push(Line::styled(format!("    {row}"), t.dim));
            }
        }
    };
    for (i, c) in model.checks.iter().enumerate() {
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
        if passed_request || !c.passed {
            lines.push(Line::raw(format!(
                "  {}",
                ellipsize_middle(&c.request, width.saturating_sub(2))
            )));
        }
        if let Some(earlier) = model.check_attempts.get(i) {
            attempt_lines(&mut lines, earlier);
        }
        let status = c.status.map_or("no answer".to_string(), |s| s.to_string());
        // What was expected is read whole: it says what tells the refusal apart.
        let verdict = format!(
            "→ {status} in {} ms{}, expected {}",
            c.latency_ms,
            c.attempts_note(),
            c.expected
        );
        for row in wrap(&verdict, width.saturating_sub(2), 2) {
            lines.push(Line::styled(
                format!("  {row}"),
                if c.passed { t.text } else { t.fail },
            ));
        }
        // A failed check's answer in full; a passing one's on a line, where there is room.
        let body = c.body.trim().replace('\n', " ");
        if c.passed {
            if passed_body {
                lines.push(Line::styled(
                    ellipsize(&format!("    {body}"), width),
                    t.dim,
                ));
            }
        } else {
            for row in wrap(&body, width.saturating_sub(4), 0) {
                lines.push(Line::styled(format!("    {row}"), t.dim));
            }
        }
    }
    if let Some(r) = &model.retrying {
        lines.push(Line::styled(format!("… {}", r.check), t.busy));
        attempt_lines(&mut lines, &r.attempts);
        lines.push(Line::styled(
            "    a new API can take a moment: asking again",
            t.dim,
        ));
    }
    // The summary and the newest lines stay in sight as checks arrive.
    let height = area.height.saturating_sub(2) as usize;
    let skip = lines.len().saturating_sub(height);
    let lines: Vec<Line> = if skip == 0 {
        lines
    } else {
        let mut lines = lines.into_iter();
        let summary = lines.next();
        summary.into_iter().chain(lines.skip(skip)).collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Test calls from the consumer ")),
        area,
    );
}
