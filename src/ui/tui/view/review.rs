//! Review: a change set before it is applied, access changes (IAM, security groups,
//! policies, keys) first and marked; or the other yes/no questions of a run.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Key, block, render_nothing, who};
use crate::engine::access_changes::RowChange;
use crate::engine::{ChangeView, Question};
use crate::ui::tui::model::{Model, ellipsize, ellipsize_middle};

pub(super) fn keys(model: &Model) -> Vec<Key> {
    match &model.question {
        Some(Question::ApplyChangeSet { .. }) => vec![
            ("y", "apply"),
            ("n", "don't apply (stop here)"),
            ("↑↓", "scroll"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Some(Question::DeleteFailedStack { .. }) => vec![
            ("y", "delete it"),
            ("n", "keep it (stop here)"),
            ("?", "help"),
            ("q", "quit"),
        ],
        _ => vec![("Esc", "back"), ("?", "help"), ("q", "quit")],
    }
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    match &model.question {
        Some(Question::ApplyChangeSet {
            stack,
            account_id,
            changes,
            ..
        }) => change_set(model, frame, area, stack, account_id, changes),
        Some(Question::DeleteFailedStack {
            stack,
            account_id,
            status,
            ..
        }) => {
            let lines = vec![
                Line::raw(format!(
                    "{stack} in {} is {status}.",
                    who(model, account_id)
                )),
                Line::raw(""),
                Line::raw("A stack that failed to create cannot be updated: it must be deleted"),
                Line::raw(
                    "before it can be made again. Nothing else of the deployment is touched.",
                ),
                Line::raw(""),
                Line::styled("Delete it and create it again?", t.title),
            ];
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(t, " Failed stack ")),
                area,
            );
        }
        _ => render_nothing(t, frame, area, "Nothing to review.", " Review "),
    }
}

fn change_set(
    model: &Model,
    frame: &mut Frame,
    area: Rect,
    stack: &str,
    account_id: &str,
    changes: &[ChangeView],
) {
    let t = &model.theme;
    let count = |a: &str| changes.iter().filter(|c| c.action == a).count();
    let replaced = changes
        .iter()
        .filter(|c| c.replacement.as_deref() == Some("True"))
        .count();
    let access = changes.iter().filter(|c| c.access).count();
    let [summary, table_area] =
        Layout::vertical([Constraint::Length(5), Constraint::Min(3)]).areas(area);
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = vec![
        Line::from(vec![
            Span::raw("Apply to "),
            Span::styled(ellipsize(stack, width.saturating_sub(9)), t.title),
        ]),
        Line::from(vec![
            Span::raw("in "),
            Span::styled(who(model, account_id), t.key),
            Span::raw(format!(
                ": {} to add, {} to modify, {} to remove, {replaced} replaced",
                count("Add"),
                count("Modify"),
                count("Remove")
            )),
        ]),
    ];
    lines.push(if access > 0 {
        Line::styled(
            format!(
                "! {access} access changes (IAM, security groups, policies, keys), listed first"
            ),
            t.access,
        )
    } else {
        Line::styled(
            "no access changes (IAM, security groups, policies, keys)",
            t.dim,
        )
    });
    frame.render_widget(
        Paragraph::new(lines).block(block(t, " Change set ")),
        summary,
    );

    let mut ordered: Vec<&ChangeView> = changes.iter().filter(|c| c.access).collect();
    ordered.extend(changes.iter().filter(|c| !c.access));
    let widths = Widths::of(&ordered, table_area.width.saturating_sub(2) as usize);
    // One line per change, each access change followed by what it grants or takes away;
    // ↑↓ scroll through the lines.
    let mut lines: Vec<Line> = Vec::new();
    for c in &ordered {
        let style = if c.access {
            t.access
        } else if c.replacement.as_deref() == Some("True") {
            t.warn
        } else {
            t.text
        };
        lines.push(Line::styled(widths.row(c), style));
        // A cause the replace column has no room for goes on a row of its own.
        let cell = replace_cell(c);
        if cell.chars().count() > widths.replace {
            for l in widths.detail(&cell) {
                lines.push(Line::styled(l, t.warn));
            }
        }
        for d in &c.details {
            let style = match d.change {
                RowChange::Added => t.access,
                RowChange::Removed => t.warn,
            };
            for l in widths.detail(&d.line()) {
                lines.push(Line::styled(l, style));
            }
        }
    }
    let visible = table_area.height.saturating_sub(3) as usize;
    let scroll = model.review_scroll.min(lines.len().saturating_sub(visible));
    let more = lines.len().saturating_sub(scroll + visible);
    let title = if more > 0 {
        format!(" {} changes · {more} more lines below (↓) ", ordered.len())
    } else {
        format!(" {} changes ", ordered.len())
    };
    let mut shown = vec![Line::styled(widths.header(), t.dim)];
    shown.extend(lines.into_iter().skip(scroll).take(visible));
    frame.render_widget(Paragraph::new(shown).block(block(t, title)), table_area);
}

/// Column widths of the change list, computed from the width there is: the type whole
/// whenever it fits with a readable logical id (at 100 columns and more it always does), else
/// without `AWS::`; from 100 columns the replace column as wide as its longest cause where the
/// types leave room for it; a cause without room shows on a row below its change.
struct Widths {
    logical: usize,
    ty: usize,
    replace: usize,
    short_types: bool,
    width: usize,
}

/// The marker, the action and the separators between the five columns.
const FIXED: usize = 1 + 1 + 6 + 1 + 1 + 1;
/// The narrowest a logical id gets while types are cut.
const MIN_LOGICAL: usize = 20;
/// Inside width (100 columns less the borders) from which replacement causes may take a column.
const WIDE: usize = 98;

impl Widths {
    fn of(changes: &[&ChangeView], width: usize) -> Self {
        let longest =
            |f: &dyn Fn(&ChangeView) -> usize| changes.iter().map(|c| f(c)).max().unwrap_or(0);
        let logical_full = longest(&|c| c.logical_id.chars().count()).max("logical id".len());
        let type_full = longest(&|c| c.resource_type.chars().count()).max("type".len());
        let min_logical = logical_full.min(MIN_LOGICAL);
        // Whole types come first: the replace column takes only what they leave.
        let replace = if width >= WIDE {
            longest(&|c| replace_cell(c).chars().count())
                .min(width.saturating_sub(FIXED + type_full + min_logical))
        } else {
            0
        }
        .max("replace".len());
        let avail = width.saturating_sub(FIXED + replace);
        let type_short = longest(&|c| short_type(&c.resource_type).chars().count());
        let (short_types, type_wanted) = if type_full + min_logical <= avail {
            (false, type_full)
        } else {
            (true, type_short.max("type".len()))
        };
        let logical = logical_full
            .min(avail.saturating_sub(type_wanted))
            .max(min_logical);
        let ty = avail.saturating_sub(logical);
        Widths {
            logical,
            ty,
            replace,
            short_types,
            width,
        }
    }

    fn line(&self, mark: &str, action: &str, logical: &str, ty: &str, replace: &str) -> String {
        let text = format!(
            "{mark:1} {action:<6} {:<lw$} {:<tw$} {}",
            ellipsize_middle(logical, self.logical),
            ellipsize(ty, self.ty),
            ellipsize(replace, self.replace),
            lw = self.logical,
            tw = self.ty,
        );
        ellipsize(&text, self.width)
    }

    fn header(&self) -> String {
        self.line(" ", "action", "logical id", "type", "replace")
    }

    fn row(&self, c: &ChangeView) -> String {
        let ty = if self.short_types {
            short_type(&c.resource_type)
        } else {
            &c.resource_type
        };
        let mark = if c.access { "!" } else { " " };
        let cell = replace_cell(c);
        let cell = if cell.chars().count() > self.replace {
            c.replacement.as_deref().map_or("", |r| {
                if r == "Conditional" {
                    "maybe"
                } else {
                    "replace"
                }
            })
        } else {
            &cell
        };
        self.line(mark, &c.action, &c.logical_id, ty, cell)
    }

    /// A row under a change (what it grants or takes away, what causes its replacement),
    /// from the logical id column on, wrapped rather than cut: every word of a grant counts.
    fn detail(&self, text: &str) -> Vec<String> {
        let indent = 1 + 1 + 6 + 1 + 2;
        wrap(text, indent, self.width)
    }
}

fn short_type(ty: &str) -> &str {
    ty.trim_start_matches("AWS::")
}

/// `replace` or `maybe`, with what causes it when AWS said: `replace: CidrBlock`.
fn replace_cell(c: &ChangeView) -> String {
    let word = match c.replacement.as_deref() {
        Some("True") => "replace",
        Some("Conditional") => "maybe",
        _ => return String::new(),
    };
    if c.replaced_by.is_empty() {
        word.to_string()
    } else {
        format!("{word}: {}", c.replaced_by.join(", "))
    }
}

/// `text` in lines of at most `width` characters, the first indented by `indent`, the others
/// by two more; a word longer than a line is cut into pieces.
fn wrap(text: &str, indent: usize, width: usize) -> Vec<String> {
    let room = |first: bool| {
        width
            .saturating_sub(if first { indent } else { indent + 2 })
            .max(8)
    };
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
    words.reverse();
    while let Some(word) = words.pop() {
        let limit = room(lines.is_empty());
        let len = current.chars().count();
        let wlen = word.chars().count();
        if len == 0 && wlen > limit {
            current = word.chars().take(limit).collect();
            words.push(word.chars().skip(limit).collect());
        } else if len > 0 && len + 1 + wlen > limit {
            lines.push(std::mem::take(&mut current));
            words.push(word);
            continue;
        } else {
            if len > 0 {
                current.push(' ');
            }
            current.push_str(&word);
            continue;
        }
        lines.push(std::mem::take(&mut current));
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let pad = if i == 0 { indent } else { indent + 2 };
            format!("{:pad$}{l}", "")
        })
        .collect()
}
