//! Parameters: region, deployment name and the pattern's own settings, each drawn from the
//! plan's `Setting` (question, help, choices, default), checked as they are confirmed, the
//! error inline. A choice that costs money is confirmed in a box before it is taken. The form
//! scrolls to keep the focused field in sight.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Key, block, dialog, dialog_width};
use crate::plan::{Role, Setting};
use crate::ui::tui::model::{Field, Identity, Model, ellipsize, wrap};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    if model.params.confirming.is_some() {
        return vec![
            ("y", "yes, choose it"),
            ("n Esc", "no, keep the one before"),
            ("Ctrl-C", "quit"),
        ];
    }
    let mut keys = vec![("Tab", "next field")];
    if focused_choice(model).is_some() {
        keys.push(("←→ Space", "change"));
    }
    keys.extend([("Enter", "deploy"), ("Esc", "back"), ("Ctrl-C", "quit")]);
    keys
}

/// The setting under focus, when it is a closed list.
fn focused_choice(model: &Model) -> Option<&'static Setting> {
    match model.params.focus {
        Field::Setting(key) => model
            .pattern
            .settings()
            .iter()
            .find(|s| s.key == key && !s.choices.is_empty()),
        _ => None,
    }
}

/// The form's lines, and the rows the focused field takes (for scrolling to it).
struct Form<'a> {
    lines: Vec<Line<'a>>,
    focus: (usize, usize),
}

impl<'a> Form<'a> {
    fn push(&mut self, line: Line<'a>) {
        self.lines.push(line);
    }

    /// `text` wrapped to `width`, each row indented by `indent`, in `style`.
    fn text(&mut self, text: &str, indent: usize, width: usize, style: Style) {
        for row in wrap(text, width.saturating_sub(indent), 0) {
            self.lines
                .push(Line::styled(format!("{}{row}", " ".repeat(indent)), style));
        }
    }
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let p = &model.params;
    let width = area.width.saturating_sub(2) as usize;
    let mut form = Form {
        lines: Vec::new(),
        focus: (0, 0),
    };
    form.push(Line::raw(ellipsize(
        &format!(
            "Pattern {}: {}",
            model.pattern.number(),
            model.pattern.title()
        ),
        width,
    )));
    for role in Role::BOTH {
        let profile = model.profiles.chosen(role).unwrap_or("?");
        let account = match model.profiles.identity(role) {
            Identity::Verified { account_id, .. } => account_id.as_str(),
            _ => "not verified",
        };
        form.push(Line::raw(ellipsize(
            &format!("{role:<9} profile {profile} → account {account}"),
            width,
        )));
    }
    form.push(Line::raw(""));
    let value_line = |value: &str, focused: bool, indent: usize| {
        let shown = format!(" {value}{} ", if focused { "█" } else { "" });
        Span::styled(ellipsize(&shown, width.saturating_sub(indent)), t.selected)
    };
    let error_of = |form: &mut Form, which: Field| {
        if let Some((f, msg)) = &p.error
            && *f == which
        {
            let rows = wrap(&format!("✘ {msg}"), width.saturating_sub(2), 2);
            for row in rows {
                form.push(Line::styled(format!("  {row}"), t.fail));
            }
        }
    };
    let common: [(&str, &str, Field, &str); 2] = [
        (
            "Region",
            &p.region,
            Field::Region,
            "e.g. us-east-1, eu-west-2",
        ),
        (
            "Deployment name",
            &p.name,
            Field::Name,
            "3-20 of a-z, 0-9 and '-'; it names every stack: xw-<name>-producer",
        ),
    ];
    for (label, value, which, help) in common {
        let focused = p.focus == which;
        let start = form.lines.len();
        form.push(Line::from(vec![
            Span::styled(
                format!("{} {label:<16}", if focused { "▸" } else { " " }),
                t.title,
            ),
            value_line(value, focused, 18),
        ]));
        error_of(&mut form, which);
        form.text(help, 2, width, t.dim);
        if focused {
            form.focus = (start, form.lines.len() - 1);
        }
        form.push(Line::raw(""));
    }
    let shown = model.settings_shown();
    for (setting, value) in &shown {
        let which = Field::Setting(setting.key);
        let focused = p.focus == which;
        let start = form.lines.len();
        let mark = if focused { "▸ " } else { "  " };
        for (i, row) in wrap(setting.question, width.saturating_sub(2), 0)
            .into_iter()
            .enumerate()
        {
            let head = if i == 0 { mark } else { "  " };
            form.push(Line::styled(format!("{head}{row}"), t.title));
        }
        if setting.choices.is_empty() {
            form.push(Line::from(vec![
                Span::raw("    "),
                value_line(value, focused, 4),
            ]));
        } else {
            let at = setting
                .choices
                .iter()
                .position(|c| c.value == value.as_str());
            let label = at.map_or(value.as_str(), |i| setting.choices[i].label);
            let text = if focused {
                format!("◂ {label} ▸")
            } else {
                label.to_string()
            };
            for row in wrap(&text, width.saturating_sub(6), 2) {
                form.push(Line::from(vec![
                    Span::raw("    "),
                    Span::styled(format!(" {row} "), t.selected),
                ]));
            }
        }
        error_of(&mut form, which);
        if focused {
            form.text(setting.help, 2, width, t.dim);
            if !setting.choices.is_empty() {
                let at = setting.choices.iter().position(|c| c.value == value);
                form.text(
                    &format!(
                        "choice {} of {}: ←→ or Space changes it",
                        at.map_or(0, |i| i + 1),
                        setting.choices.len()
                    ),
                    2,
                    width,
                    t.dim,
                );
            }
            if setting.choice(value).is_some_and(|c| c.confirm.is_some()) {
                let chosen_here = p
                    .cycled_from
                    .as_ref()
                    .is_some_and(|(k, before)| *k == setting.key && before != value);
                let note = if chosen_here {
                    "$ costs money: you confirm it before it is taken"
                } else {
                    "$ costs money: given by flag or preset, which confirms it"
                };
                form.text(note, 2, width, t.warn);
            }
            form.focus = (start, form.lines.len() - 1);
        }
    }
    if !shown.is_empty() {
        form.push(Line::raw(""));
    }
    form.text(
        "Enter verifies both profiles again, saves the deployment and starts it;",
        0,
        width,
        t.text,
    );
    form.text(
        "every change set is shown for review before it is applied.",
        0,
        width,
        t.text,
    );

    // The focused field in sight, from its question to its help.
    let height = area.height.saturating_sub(2) as usize;
    let (first, last) = form.focus;
    let scroll = if last + 1 > height {
        (last + 1 - height).min(first)
    } else {
        0
    };
    let below = form.lines.len().saturating_sub(scroll + height);
    let title = match (scroll, below) {
        (0, 0) => " Parameters ".to_string(),
        (0, _) => " Parameters · more below (Tab) ".to_string(),
        (_, 0) => " Parameters · more above ".to_string(),
        _ => " Parameters · more above and below ".to_string(),
    };
    let lines: Vec<Line> = form.lines.into_iter().skip(scroll).take(height).collect();
    frame.render_widget(Paragraph::new(lines).block(block(t, title)), area);

    if let Some(confirm) = &p.confirming
        && let Some((setting, value)) = shown.iter().find(|(s, _)| s.key == confirm.key)
        && let Some(warning) = setting.choice(value).and_then(|c| c.confirm)
    {
        let before = setting
            .choice(&confirm.previous)
            .map_or(confirm.previous.as_str(), |c| c.label);
        let inner = dialog_width(frame);
        let mut lines: Vec<Line> = wrap(warning, inner, 0)
            .into_iter()
            .map(|row| Line::styled(row, t.warn))
            .collect();
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("y", t.key),
            Span::raw(" yes, choose it"),
        ]));
        for (i, row) in wrap(&format!("no, keep {before}"), inner.saturating_sub(2), 2)
            .into_iter()
            .enumerate()
        {
            lines.push(Line::from(vec![
                Span::styled(if i == 0 { "n " } else { "" }, t.key),
                Span::raw(row),
            ]));
        }
        dialog(t, frame, " Costs money ", lines);
    }
}
