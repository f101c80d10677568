//! Parameters: region and deployment name, checked as they are confirmed, the error inline.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Key, block};
use crate::plan::Role;
use crate::ui::tui::model::{Field, Identity, Model, ellipsize};

pub(super) fn keys() -> Vec<Key> {
    vec![
        ("Tab", "next field"),
        ("Enter", "deploy"),
        ("Esc", "back"),
        ("Ctrl-C", "quit"),
    ]
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let p = &model.params;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = vec![Line::raw(format!(
        "Pattern {}: {}",
        model.pattern.number(),
        model.pattern.title()
    ))];
    for role in Role::BOTH {
        let profile = model.profiles.chosen(role).unwrap_or("?");
        let account = match model.profiles.identity(role) {
            Identity::Verified { account_id, .. } => account_id.as_str(),
            _ => "not verified",
        };
        lines.push(Line::raw(ellipsize(
            &format!("{role:<9} profile {profile} → account {account}"),
            width,
        )));
    }
    lines.push(Line::raw(""));
    let field = |label: &str, value: &str, which: Field| {
        let focused = p.focus == which;
        let shown = format!(" {value}{} ", if focused { "█" } else { "" });
        Line::from(vec![
            Span::styled(
                format!("{} {label:<16}", if focused { "▸" } else { " " }),
                t.title,
            ),
            Span::styled(ellipsize(&shown, width.saturating_sub(18)), t.selected),
        ])
    };
    let error_for = |which: Field| -> Vec<Line> {
        match &p.error {
            Some((f, msg)) if *f == which => {
                vec![Line::styled(format!("  ✘ {msg}"), t.fail)]
            }
            _ => Vec::new(),
        }
    };
    lines.push(field("Region", &p.region, Field::Region));
    lines.extend(error_for(Field::Region));
    lines.push(Line::styled("  e.g. us-east-1, eu-west-2", t.dim));
    lines.push(Line::raw(""));
    lines.push(field("Deployment name", &p.name, Field::Name));
    lines.extend(error_for(Field::Name));
    lines.push(Line::styled(
        "  3-20 of a-z, 0-9 and '-'; it names every stack: xw-<name>-producer",
        t.dim,
    ));
    lines.push(Line::raw(""));
    lines.push(Line::raw(
        "Enter verifies both profiles again, saves the deployment and starts it;",
    ));
    lines.push(Line::raw(
        "every change set is shown for review before it is applied.",
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, " Parameters ")),
        area,
    );
}
