//! Drawing: a pure function of the model. One module per screen; this one draws what they
//! share — the header (with who acts right now), the footer of keys, and the overlays.

mod cleanup;
mod code;
mod deploy;
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

use super::model::{Model, Overlay, Screen, ellipsize};
use super::theme::Theme;
use crate::plan::Role;

/// A key and what it does, for the footer and the help overlay.
pub(crate) type Key = (&'static str, &'static str);

pub fn view(model: &Model, frame: &mut Frame) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let (title, keys) = match model.screen {
        Screen::Home => ("Deployments", home::keys(model)),
        Screen::PatternChoice => ("New deployment · pattern", pattern::keys()),
        Screen::Profiles => ("New deployment · profiles", profiles::keys(model)),
        Screen::Parameters => ("New deployment · parameters", parameters::keys()),
        Screen::Review => ("Review", review::keys(model)),
        Screen::Deploy => ("Deployment", deploy::keys(model)),
        Screen::Tests => ("Test results", results::keys(model)),
        Screen::Cleanup => ("Cleanup", cleanup::keys(model)),
        Screen::Error => ("Step failed", error::keys(model)),
    };
    render_header(model, frame, header, title);
    match model.screen {
        Screen::Home => home::render(model, frame, body),
        Screen::PatternChoice => pattern::render(model, frame, body),
        Screen::Profiles => profiles::render(model, frame, body),
        Screen::Parameters => parameters::render(model, frame, body),
        Screen::Review => review::render(model, frame, body),
        Screen::Deploy => deploy::render(model, frame, body),
        Screen::Tests => results::render(model, frame, body),
        Screen::Cleanup => cleanup::render(model, frame, body),
        Screen::Error => error::render(model, frame, body),
    }
    frame.render_widget(key_line(&model.theme, &keys, footer.width), footer);
    match model.overlay {
        Some(Overlay::Help) => help::render(model, frame, &keys),
        Some(Overlay::QuitConfirm) => quit::render(model, frame),
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
    let right = match (&model.acting, &model.run) {
        (Some((role, account)), _) => format!("acting: {role} · {account} "),
        (None, Some(run)) => match &model.finished {
            Some(status) => format!("{} · {status} ", run.deployment),
            None => format!("{} · {} ", run.deployment, run.region),
        },
        (None, None) => String::new(),
    };
    let mut left = format!(" xwizard · {title}");
    if let (Some(run), Some(_)) = (&model.run, &model.acting) {
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

/// "y apply · n cancel · ? help", cut at the width (the help overlay lists them all).
fn key_line<'a>(t: &Theme, keys: &[Key], width: u16) -> Paragraph<'a> {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (i, (key, what)) in keys.iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        let len = sep.chars().count() + key.chars().count() + 1 + what.chars().count();
        if used + len > width as usize {
            break;
        }
        used += len;
        spans.push(Span::styled(sep, t.dim));
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
