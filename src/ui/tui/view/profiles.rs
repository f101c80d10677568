//! Profiles: which AWS profile plays producer and which consumer, each verified with STS
//! before anything is made — the account id and ARN on screen, or the error and what to do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, Paragraph, Wrap};

use super::{Key, block};
use crate::plan::Role;
use crate::ui::tui::model::{Identity, Model, ProfilesForm, ellipsize};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    let form = &model.profiles;
    let mut keys = vec![("↑↓", "select"), ("Enter", "use"), ("Tab", "role")];
    if form.ready() {
        keys.push(("c", "continue"));
    }
    if form.same_account().is_some() {
        keys.push(("a", "one account"));
    }
    keys.extend([("Esc", "back"), ("?", "help"), ("q", "quit")]);
    keys
}

/// What a failed STS call usually needs, by the kind of profile.
fn remedy(form: &ProfilesForm, profile: &str) -> String {
    match form.profile(profile).map(|p| p.kind.as_str()) {
        Some("sso") => format!("sign in: aws sso login --profile {profile}, then Enter again"),
        Some("role+mfa") => format!(
            "Enter again for a fresh MFA code; if it is refused again, check role_arn, \
             source_profile and mfa_serial of {profile}"
        ),
        Some("role") => format!(
            "check role_arn and source_profile of {profile} in ~/.aws/config, then Enter again"
        ),
        Some("process") => {
            format!("run the credential_process of {profile} by hand to see why, then Enter again")
        }
        _ => format!("check the keys of {profile}: aws configure --profile {profile}"),
    }
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let form = &model.profiles;
    // The list is as wide as its longest name and kind, up to two fifths of the screen.
    let name_width = form
        .profiles
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(16, 40);
    let kind_width = form
        .profiles
        .iter()
        .map(|p| p.kind.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let list_width = (name_width + kind_width + 5) as u16;
    let list_width = list_width.clamp(28, (area.width * 2 / 5).max(28));
    let name_width = usize::from(list_width).saturating_sub(kind_width + 5);
    let [list_area, roles_area] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(30)]).areas(area);

    let items: Vec<ListItem> = if form.profiles.is_empty() {
        vec![
            ListItem::new("no AWS profiles found"),
            ListItem::new("aws configure --profile NAME"),
            ListItem::new("or aws configure sso"),
        ]
    } else {
        form.profiles
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mark = if form.chosen(Role::Producer) == Some(&p.name) {
                    "P"
                } else if form.chosen(Role::Consumer) == Some(&p.name) {
                    "C"
                } else {
                    " "
                };
                let text = format!(
                    "{mark} {:<name_width$} {:<kind_width$}",
                    ellipsize(&p.name, name_width),
                    p.kind
                );
                let item = ListItem::new(text);
                if i == form.cursor {
                    item.style(t.selected)
                } else {
                    item
                }
            })
            .collect()
    };
    frame.render_widget(
        List::new(items).block(block(t, " AWS profiles ")),
        list_area,
    );

    // Names, ARNs and errors wrap rather than being cut: they are what the user checks here.
    let mut lines = Vec::new();
    for role in Role::BOTH {
        let focused = form.focus == role;
        lines.push(Line::styled(
            format!(
                "{} {role}: {}",
                if focused { "▸" } else { " " },
                form.chosen(role).unwrap_or("(choose a profile)")
            ),
            if focused { t.title } else { t.text },
        ));
        match form.identity(role) {
            Identity::Unchecked => lines.push(Line::styled("    not verified yet", t.dim)),
            Identity::Checking => lines.push(Line::styled("    … asking STS who this is", t.busy)),
            Identity::Verified { account_id, arn } => {
                lines.push(Line::from(vec![
                    Span::styled("    ✔ ", t.ok),
                    Span::raw(format!("account {account_id}")),
                ]));
                // An ARN is one token: keep both ends on one line rather than wrap it.
                let room = usize::from(roles_area.width).saturating_sub(8);
                lines.push(Line::styled(
                    format!(
                        "      {}",
                        crate::ui::tui::model::ellipsize_middle(arn, room)
                    ),
                    t.dim,
                ));
            }
            Identity::Failed { message } => {
                lines.push(Line::styled(format!("    ✘ {message}"), t.fail));
                let profile = form.chosen(role).unwrap_or_default();
                lines.push(Line::raw(format!("      → {}", remedy(form, profile))));
            }
        }
        lines.push(Line::raw(""));
    }
    if let Some(account) = form.same_account() {
        lines.push(Line::styled(
            format!("! Both profiles are account {account}."),
            t.warn,
        ));
        lines.push(Line::raw(if form.allow_same_account {
            "Rehearsing both roles in one account (a undoes it); c continues."
        } else {
            "The pattern joins two accounts: choose a profile of another account, \
             or press a to rehearse both roles in one account."
        }));
    } else if form.ready() {
        lines.push(Line::styled("Both accounts verified: c continues.", t.ok));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, " Who plays which role ")),
        roles_area,
    );
}
