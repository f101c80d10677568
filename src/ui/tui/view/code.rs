//! The MFA code box: which device, for which profile, and a dot per digit typed (the digits
//! themselves are never drawn).

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::dialog;
use crate::ui::tui::model::{CodeEntry, Model};

pub(super) fn render(model: &Model, entry: &CodeEntry, frame: &mut Frame) {
    let t = &model.theme;
    let dots: String = (0..6)
        .map(|i| if i < entry.typed.len() { '●' } else { '·' })
        .collect();
    let lines = vec![
        Line::raw(""),
        Line::from(vec![
            Span::raw("Profile "),
            Span::styled(entry.profile.clone(), t.key),
            Span::raw(" assumes its role with the MFA device"),
        ]),
        Line::raw(entry.serial.clone()),
        Line::raw(""),
        Line::from(vec![
            Span::raw("Code the device shows now:  "),
            Span::styled(dots, t.title),
        ]),
        Line::raw(""),
        Line::from(vec![
            Span::styled("  0-9", t.key),
            Span::raw(" type   "),
            Span::styled("Enter", t.key),
            Span::raw(" use   "),
            Span::styled("Esc", t.key),
            Span::raw(" give none"),
        ]),
    ];
    dialog(t, frame, " MFA code ", lines);
}
