//! Pattern choice: what the pattern builds, what it roughly costs, what it needs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Key, block};
use crate::ui::tui::model::Model;

const DIAGRAM: &str = include_str!("../../../../assets/diagrams/pattern1.txt");

pub(super) fn keys() -> Vec<Key> {
    vec![
        ("Enter", "choose"),
        ("Esc", "back"),
        ("?", "help"),
        ("q", "quit"),
    ]
}

pub(super) fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let t = &model.theme;
    let label = |l: &'static str| Span::styled(l, t.title);
    let mut lines: Vec<Line> = vec![Line::styled(
        format!("▸ {}. {}", model.pattern.number(), model.pattern.title()),
        t.selected,
    )];
    lines.extend(DIAGRAM.lines().map(|l| Line::styled(l.to_string(), t.dim)));
    lines.extend([
        Line::from(vec![
            label("Creates  "),
            Span::raw("consumer: VPC over 2 AZs with a NAT gateway, execute-api"),
        ]),
        Line::raw("         endpoint, internal NLB, API-key secret (KMS), regional API with a"),
        Line::raw("         VPC link, Lambda · producer: private REST API with key authorizer"),
        Line::from(vec![
            label("Cost     "),
            Span::raw("NAT gateway ~$0.045/h · interface endpoint ~$0.01/h per AZ ·"),
        ]),
        Line::raw("         NLB ~$0.0225/h: ≈ $0.09/h while it exists, plus traffic"),
        Line::styled(
            "         (approx., us-east-1, see AWS pricing); cleanup removes it all",
            t.dim,
        ),
        Line::from(vec![
            label("You need "),
            Span::raw("two AWS profiles, one per account, allowed to use CloudFormation,"),
        ]),
        Line::raw("         IAM, EC2, ELB, API Gateway, Lambda, Secrets Manager and KMS"),
    ]);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(t, " Which pattern? ")),
        area,
    );
}
