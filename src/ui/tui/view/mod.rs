//! Drawing: a pure function of the model. One module per screen; this one draws what they
//! share — the header (with who acts right now), the footer of keys, and the overlays.

mod cleanup;
mod code;
mod connection;
pub(crate) mod deploy;
mod error;
mod help;
mod home;
mod parameters;
mod pattern;
mod profiles;
mod quit;
mod results;
mod review;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::model::{Finished, Model, Overlay, Screen, ellipsize};
use super::theme::Theme;
use crate::plan::Role;

/// A key and what it does, for the footer and the help overlay.
pub(crate) type Key = (&'static str, &'static str);

/// The smallest terminal every screen stays readable in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

pub fn view(model: &Model, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "Make the window larger: xwizard needs {MIN_WIDTH}×{MIN_HEIGHT}, this one is {}×{}. \
             The run goes on meanwhile; q quits.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: false }),
            area,
        );
        if model.overlay == Some(Overlay::QuitConfirm) {
            quit::render(model, frame);
        }
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let (title, mut keys) = match model.screen {
        Screen::Home => ("Deployments", home::keys(model)),
        Screen::PatternChoice => ("New deployment · pattern", pattern::keys()),
        Screen::Profiles => ("New deployment · profiles", profiles::keys(model)),
        Screen::Parameters => ("New deployment · parameters", parameters::keys(model)),
        Screen::Review => ("Review", review::keys(model)),
        Screen::Connection => ("Connection request", connection::keys(model)),
        Screen::Deploy => ("Deployment", deploy::keys(model)),
        Screen::Tests => ("Test results", results::keys(model)),
        Screen::Cleanup => ("Cleanup", cleanup::keys(model)),
        Screen::Error => ("Step failed", error::keys(model)),
    };
    if matches!(model.overlay, Some(Overlay::Resources | Overlay::Outputs)) {
        keys = deploy::detail_keys();
    }
    render_header(model, frame, header, title);
    match model.screen {
        Screen::Home => home::render(model, frame, body),
        Screen::PatternChoice => pattern::render(model, frame, body),
        Screen::Profiles => profiles::render(model, frame, body),
        Screen::Parameters => parameters::render(model, frame, body),
        Screen::Review => review::render(model, frame, body),
        Screen::Connection => connection::render(model, frame, body),
        Screen::Deploy => deploy::render(model, frame, body),
        Screen::Tests => results::render(model, frame, body),
        Screen::Cleanup => cleanup::render(model, frame, body),
        Screen::Error => error::render(model, frame, body),
    }
    frame.render_widget(key_line(&model.theme, &keys, footer.width), footer);
    match model.overlay {
        Some(Overlay::Help) => help::render(model, frame, &keys),
        Some(Overlay::QuitConfirm) => quit::render(model, frame),
        Some(Overlay::Resources) => deploy::render_resources(model, frame, body),
        Some(Overlay::Outputs) => deploy::render_all_outputs(model, frame, body),
        None => {}
    }
    // Over everything: a run waits for it.
    if let Some(entry) = &model.code_entry {
        code::render(model, entry, frame);
    }
}

/// Left: where we are; right: whose credentials act now, always in sight.
fn render_header(model: &Model, frame: &mut Frame, area: Rect, title: &str) {
    let t = &model.theme;
    // Both accounts act at once when a cleanup deletes a wave of both.
    let mut roles: Vec<(Role, &str)> = Vec::new();
    for (_, role, account) in &model.acting {
        if !roles.iter().any(|(r, _)| r == role) {
            roles.push((*role, account));
        }
    }
    roles.sort_by_key(|(r, _)| *r != Role::Producer);
    let right = match (roles.as_slice(), &model.run) {
        ([(role, account)], _) => format!("acting: {role} · {account} "),
        ([_, _], _) => format!(
            "acting: {} ",
            roles
                .iter()
                .map(|(r, a)| format!("{r} · {a}"))
                .collect::<Vec<_>>()
                .join(" + ")
        ),
        (_, Some(run)) => match &model.finished {
            Some(Finished::Run(status)) => format!("{} · {status} ", run.deployment),
            Some(Finished::Stopped) => format!("{} · stopped ", run.deployment),
            None => format!("{} · {} ", run.deployment, run.region),
        },
        (_, None) => String::new(),
    };
    let mut left = format!(" xwizard · {title}");
    if let (Some(run), false) = (&model.run, model.acting.is_empty()) {
        left.push_str(&format!(" · {} · {}", run.deployment, run.region));
    }
    let room = (area.width as usize).saturating_sub(right.chars().count() + 1);
    let left = ellipsize(&left, room);
    let pad = (area.width as usize).saturating_sub(left.chars().count() + right.chars().count());
    let line = Line::from(vec![
        Span::styled(left, t.title),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, t.key),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// "y apply · n cancel · ? help", cut at the width (the help overlay lists them all); `?`
/// and `q` always stay in sight, so the rest can be found.
fn key_line<'a>(t: &Theme, keys: &[Key], width: u16) -> Paragraph<'a> {
    let len = |(key, what): &Key| 3 + key.chars().count() + 1 + what.chars().count();
    let always = |k: &&Key| matches!(k.0, "?" | "q");
    let reserved: usize = keys.iter().filter(always).map(len).sum();
    let mut room = (width as usize).saturating_sub(1 + reserved);
    let mut shown: Vec<&Key> = Vec::new();
    for k in keys {
        if always(&k) {
            shown.push(k);
        } else if len(k) <= room {
            room -= len(k);
            shown.push(k);
        } else {
            room = 0;
        }
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, (key, what)) in shown.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.dim));
        }
        spans.push(Span::styled(*key, t.key));
        spans.push(Span::raw(format!(" {what}")));
    }
    Paragraph::new(Line::from(spans))
}

pub(crate) fn block<'a>(t: &Theme, title: impl Into<String>) -> Block<'a> {
    Block::bordered()
        .border_style(t.border)
        .title(Span::styled(title.into(), t.title))
}

/// How the keys of a screen that can show test results end: `t` when there are any, then help
/// and quit.
pub(crate) fn with_tests_help_quit(model: &Model, mut keys: Vec<Key>) -> Vec<Key> {
    if !model.checks.is_empty() {
        keys.push(("t", "tests"));
    }
    keys.extend([("?", "help"), ("q", "quit")]);
    keys
}

/// A screen's box with only `text` in it, for when it has nothing to show.
pub(crate) fn render_nothing(t: &Theme, frame: &mut Frame, area: Rect, text: &str, title: &str) {
    frame.render_widget(Paragraph::new(text).block(block(t, title)), area);
}

/// "consumer · 222222222222" for an account of the run.
pub(crate) fn who(model: &Model, account_id: &str) -> String {
    for role in Role::BOTH {
        if model.account_of(role) == Some(account_id) {
            return format!("{role} · {account_id}");
        }
    }
    format!("account {account_id}")
}

/// A question over the screen: `lines` in a titled box in its middle, what is under it
/// cleared, long lines wrapped.
/// A dialog's last line: what `y` and `n` do.
pub(crate) fn yes_no<'a>(t: &Theme, yes: &'a str, no: &'a str) -> Line<'a> {
    Line::from(vec![
        Span::styled("  y", t.key),
        Span::raw(format!(" {yes}   ")),
        Span::styled("n", t.key),
        Span::raw(format!(" {no}")),
    ])
}

pub(crate) fn dialog(t: &Theme, frame: &mut Frame, title: &str, lines: Vec<Line<'_>>) {
    let inner = dialog_width(frame);
    let rows: usize = lines
        .iter()
        .map(|l| super::model::wrap(&l.to_string(), inner, 0).len())
        .sum();
    let area = centered(frame.area(), DIALOG_WIDTH, rows as u16 + 2);
    frame.render_widget(ratatui::widgets::Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(block(t, title)),
        area,
    );
}

/// How wide a dialog is, borders included, where the terminal allows.
const DIALOG_WIDTH: u16 = 68;

/// The columns inside a dialog on this frame: what its text is wrapped to.
pub(crate) fn dialog_width(frame: &Frame) -> usize {
    usize::from(DIALOG_WIDTH.min(frame.area().width).saturating_sub(2))
}

/// A box of `width` × `height` in the middle of `area`, kept inside it.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
