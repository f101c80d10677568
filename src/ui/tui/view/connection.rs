//! A consumer's endpoint asks to connect to the producer's endpoint service: who asks (the
//! endpoint, its account — flagged when it is not the deployment's consumer —, its VPC), to
//! which service, and the three answers. Rejecting asks again first: a rejected endpoint
//! cannot ask again.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Key, block, dialog, dialog_width, render_nothing};
use crate::engine::{ConnectionRequest, Question};
use crate::ui::tui::model::{Model, ellipsize, wrap};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    if model.rejecting {
        return vec![("y", "reject it"), ("n Esc", "back"), ("Ctrl-C", "quit")];
    }
    if request(model).is_none() {
        return vec![("Esc", "deployment"), ("?", "help"), ("q", "quit")];
    }
    vec![
        ("a", "accept"),
        ("r", "reject"),
        ("l Esc", "later"),
        ("?", "help"),
        ("q", "quit"),
    ]
}

fn request(model: &Model) -> Option<&ConnectionRequest> {
    match &model.question {
        Some(Question::AcceptConnection { request, .. }) => Some(request),
        _ => None,
    }
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let Some(r) = request(model) else {
        render_nothing(t, frame, area, "No connection waits.", " Connection ");
        return;
    };
    let width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let name = model.deployment_name().unwrap_or("<name>");
    let stranger = r.requester_account != r.expected_account;
    let label = |text: &str| Span::styled(format!("  {text:<18}"), t.title);
    let value =
        |text: &str, style: Style| Span::styled(ellipsize(text, width.saturating_sub(20)), style);
    let mut facts = vec![
        Line::from(vec![label("Endpoint"), value(&r.endpoint_id, t.text)]),
        Line::from(vec![
            label("Requester account"),
            if stranger {
                value(
                    &format!("{}  ! not the consumer", r.requester_account),
                    t.warn,
                )
            } else {
                value(&format!("{}  ✔ the consumer", r.requester_account), t.text)
            },
        ]),
        Line::from(vec![
            label("VPC"),
            value(
                if r.vpc_id.is_empty() {
                    "unknown"
                } else {
                    &r.vpc_id
                },
                t.text,
            ),
        ]),
        Line::from(vec![label("Service"), value(&r.service_id, t.text)]),
        Line::from(vec![
            label("Producer account"),
            value(&format!("{}  (accepts)", r.account_id), t.text),
        ]),
    ];
    if stranger {
        for row in wrap(
            &format!(
                "! This deployment's consumer is account {}: this request comes from another \
                 account. Accept only an endpoint you know.",
                r.expected_account
            ),
            width,
            2,
        ) {
            facts.push(Line::styled(row, t.warn));
        }
    }
    let answer = |key: &'static str, what: &'static str, why: &str| {
        Line::from(vec![
            Span::styled(format!("  {key}  "), t.key),
            Span::styled(format!("{what:<7}"), t.title),
            Span::raw(ellipsize(why, width.saturating_sub(12))),
        ])
    };
    let answers = vec![
        answer("a", "Accept", "— it may call the service over PrivateLink"),
        answer("r", "Reject", "— refused for good: it cannot ask again"),
        answer(
            "l",
            "Later",
            "— leave it pending: `xwizard resume` asks again",
        ),
    ];
    let intro = wrap(
        "A consumer endpoint asks to connect to the producer's endpoint service. The run waits \
         for your answer (its timers are stopped).",
        width,
        0,
    );
    // The facts and the answers always; the introduction and the spacing where they fit.
    let full = intro.len() + 1 + facts.len() + 1 + answers.len();
    let mut lines: Vec<Line> = Vec::new();
    if full <= height {
        lines.extend(intro.into_iter().map(Line::raw));
        lines.push(Line::raw(""));
    }
    lines.extend(facts);
    if full <= height || lines.len() + answers.len() < height {
        lines.push(Line::raw(""));
    }
    lines.extend(answers);
    let title = if stranger {
        " Connection request · from another account "
    } else {
        " Connection request "
    };
    frame.render_widget(Paragraph::new(lines).block(block(t, title)), area);

    if model.rejecting {
        let inner = dialog_width(frame);
        let mut lines: Vec<Line> = wrap(
            &format!(
                "Reject the connection of {} (account {})? A rejected endpoint cannot ask \
                 again: the deployment then waits until `xwizard destroy {name}` removes it, \
                 and a new run makes a new endpoint.",
                r.endpoint_id, r.requester_account
            ),
            inner,
            0,
        )
        .into_iter()
        .map(Line::raw)
        .collect();
        lines.push(Line::raw(""));
        lines.push(super::yes_no(t, "reject it", "back"));
        dialog(t, frame, " Reject the connection? ", lines);
    }
}
