//! Colours of the full-screen interface. `NO_COLOR` (https://no-color.org) gives a plain set:
//! emphasis by bold and reverse video only, so meaning never rests on colour alone — every
//! state also has a symbol or a word on screen.

use crate::stack_status::Status;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub title: Style,
    pub text: Style,
    pub dim: Style,
    pub key: Style,
    pub ok: Style,
    pub busy: Style,
    pub fail: Style,
    pub warn: Style,
    /// IAM, security-group, policy and key changes in a change set.
    pub access: Style,
    pub selected: Style,
    pub border: Style,
}

impl Theme {
    pub fn colored() -> Self {
        Self {
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            text: Style::new(),
            dim: Style::new().fg(Color::DarkGray),
            key: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ok: Style::new().fg(Color::Green),
            busy: Style::new().fg(Color::Yellow),
            fail: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            warn: Style::new().fg(Color::Magenta),
            access: Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            border: Style::new().fg(Color::DarkGray),
        }
    }

    pub fn plain() -> Self {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Self {
            title: bold,
            text: Style::new(),
            dim: Style::new(),
            key: bold,
            ok: Style::new(),
            busy: Style::new(),
            fail: bold,
            warn: bold,
            access: bold,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            border: Style::new(),
        }
    }

    /// Plain when `NO_COLOR` is set to anything but the empty string.
    pub fn from_env() -> Self {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Self::plain(),
            _ => Self::colored(),
        }
    }

    /// The colour of a CloudFormation status, by what it means to the user.
    pub fn status(&self, status: &str) -> Style {
        let status = Status(status);
        if status.failed() {
            self.fail
        } else if status.rolling_back() {
            self.warn
        } else if status.in_progress() {
            self.busy
        } else if status.complete() {
            self.ok
        } else {
            self.text
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Self::from_env()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_set_has_no_colour() {
        let t = Theme::plain();
        for style in [
            t.title, t.text, t.dim, t.key, t.ok, t.busy, t.fail, t.warn, t.access, t.selected,
            t.border,
        ] {
            assert_eq!((style.fg, style.bg), (None, None));
        }
        assert_eq!(t.status("CREATE_FAILED"), t.fail);
    }
}
