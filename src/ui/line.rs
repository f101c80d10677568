//! Line mode: progress as plain lines, one per event.

use std::fmt::Write as _;
use std::io::Write;

use crate::engine::{ChangeView, Event, Reporter};

pub struct LineReporter;

/// Counts of a change set, with access changes called out.
pub fn change_summary(stack: &str, changes: &[ChangeView]) -> String {
    let count = |a: &str| changes.iter().filter(|c| c.action == a).count();
    let mut out = format!(
        "  change set for {stack}: {} to add, {} to modify, {} to remove",
        count("Add"),
        count("Modify"),
        count("Remove")
    );
    let replaced = changes
        .iter()
        .filter(|c| c.replacement.as_deref() == Some("True"))
        .count();
    if replaced > 0 {
        let _ = write!(out, ", {replaced} replaced");
    }
    let access: Vec<&ChangeView> = changes.iter().filter(|c| c.access).collect();
    if !access.is_empty() {
        let _ = write!(
            out,
            "\n  access changes (IAM, security groups, policies, keys):"
        );
        for c in access {
            let _ = write!(
                out,
                "\n    {:<6} {} ({})",
                c.action, c.logical_id, c.resource_type
            );
            for d in &c.details {
                let _ = write!(out, "\n           {}", d.line());
            }
        }
    }
    let causes: Vec<&ChangeView> = changes
        .iter()
        .filter(|c| !c.replaced_by.is_empty())
        .collect();
    if !causes.is_empty() {
        let _ = write!(out, "\n  replacements:");
        for c in causes {
            let word = if c.replacement.as_deref() == Some("Conditional") {
                "may be replaced"
            } else {
                "replaced"
            };
            let _ = write!(
                out,
                "\n    {} ({}) {word}: {} changes",
                c.logical_id,
                c.resource_type,
                c.replaced_by.join(", ")
            );
        }
    }
    out
}

pub fn render(event: &Event) -> Option<String> {
    Some(match event {
        Event::RunStarted {
            deployment,
            pattern,
            region,
            producer_account,
            consumer_account,
        } => format!(
            "Deployment {deployment} (pattern {}) in {region}: producer {producer_account}, consumer {consumer_account}",
            pattern.number()
        ),
        Event::StepStarted {
            step,
            title,
            role,
            account_id,
            ..
        } => {
            format!("\n▶ {step}: {title}  [{role} · {account_id}]")
        }
        Event::ChangeSet { stack, changes, .. } => change_summary(stack, changes),
        Event::StackEvent { step, event, .. } => {
            // The step names the stack: a cleanup deletes a wave's stacks (in both accounts)
            // at once, and their events interleave.
            let time = event.timestamp.get(11..19).unwrap_or(&event.timestamp);
            let mut line = format!(
                "  {time} {step:<16} {:<28} {} ({})",
                event.status, event.logical_id, event.resource_type
            );
            if !event.reason.is_empty() && crate::stack_status::Status(&event.status).failed() {
                let _ = write!(line, "\n           {}", event.reason);
            }
            line
        }
        Event::Outputs { outputs, .. } => {
            let mut text = String::from("  outputs:");
            for (k, v) in outputs {
                let _ = write!(text, "\n    {k} = {v}");
            }
            text
        }
        // Steps run side by side: each line names its own.
        Event::Info { step, message } => format!("  {step}: {message}"),
        Event::StepWaiting {
            step,
            message,
            next,
        } => format!("⏸ {step} waits: {message}\n  next: {next}"),
        Event::ConnectionPending { request, .. } => {
            format!("  {}", crate::ui::connection_lines(request).join("\n  "))
        }
        Event::ConnectionAnswered {
            step,
            endpoint_id,
            answer,
            by,
        } => format!(
            "  {step}: {}",
            crate::ui::connection_answered(endpoint_id, *answer, by)
        ),
        Event::CheckRetry {
            check,
            attempt,
            cause,
            ..
        } => format!(
            "  … {check}: {cause} on attempt {attempt}; a new API can take a moment, asking again"
        ),
        Event::CleanupResult {
            leftovers,
            removed,
            kept,
            clean,
        } => {
            let mut text = String::new();
            for item in removed {
                let _ = write!(text, "\n  removed: {item}");
            }
            for item in leftovers {
                let _ = write!(text, "\n  still there: {item}");
            }
            for item in kept {
                let _ = write!(text, "\n  kept on purpose: {}, {}", item.what, item.why);
            }
            if *clean {
                let _ = write!(
                    text,
                    "\n  nothing {}of this deployment is left in either account",
                    if kept.is_empty() { "" } else { "else " }
                );
            }
            text.trim_start_matches('\n').to_string()
        }
        Event::Check { check, .. } => format!(
            "  {} {}\n      {}\n      → {} in {} ms{}: {}\n      expected {}",
            if check.passed { "PASS" } else { "FAIL" },
            check.name,
            check.request,
            check
                .status
                .map_or("no answer".to_string(), |s| s.to_string()),
            check.latency_ms,
            check.attempts_note(),
            check.body.trim(),
            check.expected
        ),
        Event::StepDone {
            step,
            seconds,
            api_calls,
            ..
        } => {
            if *api_calls > 0 {
                format!("✔ {step} done in {seconds:.1}s ({api_calls} CloudFormation calls)")
            } else {
                format!("✔ {step} done in {seconds:.1}s")
            }
        }
        Event::StepFailed {
            step,
            message,
            root_cause,
            next,
            ..
        } => {
            let mut text = format!("✘ {step} failed: {message}");
            if let Some(c) = root_cause {
                let _ = write!(
                    text,
                    "\n  root cause: {} ({}) {}: {}",
                    c.logical_id, c.resource_type, c.status, c.reason
                );
            }
            let _ = write!(text, "\n  next: {next}");
            text
        }
        Event::RunFinished { deployment, status } => format!("\n{deployment}: {status}"),
    })
}

impl Reporter for LineReporter {
    fn report(&self, event: &Event) {
        if let Some(text) = render(event) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

/// `xwizard status`: the deployment's record, step by step.
pub fn status(d: &crate::state::Deployment) -> String {
    let mut out = format!(
        "{}  pattern {} ({})  {}\n  region {}\n  producer {} (profile {})\n  consumer {} (profile {})\n",
        d.name,
        d.pattern.number(),
        d.pattern.title(),
        d.summary(),
        d.region,
        d.producer.account_id,
        d.producer.profile,
        d.consumer.account_id,
        d.consumer.profile
    );
    if !d.settings.is_empty() {
        let shown: Vec<String> = d.settings.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "  {}", shown.join(" · "));
    }
    for step in d.pattern.steps() {
        let s = d.step(step.id);
        let _ = write!(
            out,
            "\n  {:<10} {:<22} [{} · {}] {}",
            format!("{:?}", s.status).to_lowercase(),
            step.id,
            step.role,
            d.account(step.role).account_id,
            step.title
        );
        if let Some(name) = &s.stack_name {
            let _ = write!(out, "\n             stack {name}");
        }
        for (k, v) in &s.outputs {
            let _ = write!(out, "\n             {k} = {}", crate::ui::shown_value(v));
        }
        if let Some(f) = &s.failure {
            let verb = if s.status == crate::state::StepStatus::Waiting {
                "waits"
            } else {
                "failed"
            };
            let _ = write!(out, "\n             {verb}: {}", f.message);
            if let Some(c) = &f.root_cause {
                let _ = write!(
                    out,
                    "\n             root cause: {} ({}) {}: {}",
                    c.logical_id, c.resource_type, c.status, c.reason
                );
            }
            let _ = write!(out, "\n             next: {}", f.next);
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod change_summary_tests {
    use super::*;
    use crate::engine::access_changes::{AccessKind, AccessRow, RowChange};

    #[test]
    fn access_changes_list_their_rows_and_replacements_their_causes() {
        let role = ChangeView {
            action: "Modify".into(),
            logical_id: "AuthorizerRole".into(),
            resource_type: "AWS::IAM::Role".into(),
            replacement: Some("False".into()),
            access: true,
            replaced_by: Vec::new(),
            details: vec![
                AccessRow {
                    change: RowChange::Removed,
                    kind: AccessKind::Trust,
                    text: "Allow sts:AssumeRole ← ec2.amazonaws.com".into(),
                },
                AccessRow {
                    change: RowChange::Added,
                    kind: AccessKind::Trust,
                    text: "Allow sts:AssumeRole ← lambda.amazonaws.com".into(),
                },
            ],
        };
        let subnet = ChangeView {
            action: "Modify".into(),
            logical_id: "SubnetA".into(),
            resource_type: "AWS::EC2::Subnet".into(),
            replacement: Some("True".into()),
            access: false,
            replaced_by: vec!["CidrBlock (from SubnetCidr)".into()],
            details: Vec::new(),
        };
        assert_eq!(
            change_summary("xw-demo-producer", &[subnet, role]),
            "  change set for xw-demo-producer: 0 to add, 2 to modify, 0 to remove, 1 replaced\n\
             \x20 access changes (IAM, security groups, policies, keys):\n\
             \x20   Modify AuthorizerRole (AWS::IAM::Role)\n\
             \x20          - Allow sts:AssumeRole ← ec2.amazonaws.com\n\
             \x20          + Allow sts:AssumeRole ← lambda.amazonaws.com\n\
             \x20 replacements:\n\
             \x20   SubnetA (AWS::EC2::Subnet) replaced: CidrBlock (from SubnetCidr) changes"
        );
    }
}
