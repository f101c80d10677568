//! Front ends: renderers of the engine's events and sources of answers. No AWS call here.

pub mod json;
pub mod line;
pub mod prompts;
pub mod tui;

/// Writes `text` to stdout. A reader that went away (`xwizard list | head -1`) ends the
/// output quietly: the work is done, only the rest of its report has nowhere to go.
pub fn stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Any other write error (a full disk behind a redirection) has no better place to go
    // than stderr.
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the output: {e}");
    }
}

/// An output as a person reads it: a certificate (PEM) by what it is, not by its base64.
pub fn shown_value(value: &str) -> String {
    if !value.contains("-----BEGIN CERTIFICATE-----") {
        return value.to_string();
    }
    match crate::ca::certificate_facts(value) {
        Ok(f) => format!(
            "certificate {} (issued by {}, valid until {})",
            f.subject, f.issuer, f.not_after
        ),
        Err(_) => "a certificate (PEM)".to_string(),
    }
}

/// What became of a connection, and who said so ("flag": `--accept-connection`).
pub fn connection_answered(
    endpoint_id: &str,
    answer: crate::engine::ConnectionAnswer,
    by: &str,
) -> String {
    let by = if by == "flag" {
        " (--accept-connection)"
    } else {
        ""
    };
    format!(
        "the connection of {endpoint_id} is {}{by}",
        answer.outcome()
    )
}

/// Who asks to connect to the producer's service, and from where: the same lines on every
/// front end that shows the question.
pub fn connection_lines(r: &crate::engine::ConnectionRequest) -> Vec<String> {
    let mut lines = vec![
        format!(
            "A consumer endpoint asks to connect to endpoint service {} (producer account {}):",
            r.service_id, r.account_id
        ),
        format!("  endpoint  {}", r.endpoint_id),
        format!(
            "  account   {}{}",
            r.requester_account,
            if r.requester_account == r.expected_account {
                " (this deployment's consumer)"
            } else {
                ""
            }
        ),
        format!(
            "  VPC       {}",
            if r.vpc_id.is_empty() {
                "unknown"
            } else {
                &r.vpc_id
            }
        ),
    ];
    if r.requester_account != r.expected_account {
        lines.push(format!(
            "  WARNING: this deployment's consumer is account {}; this request comes from \
             another account",
            r.expected_account
        ));
    }
    lines
}

/// "40m", "26h", "9d": how long ago a deployment was started.
pub fn age(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds}s"),
        60..7200 => format!("{}m", seconds / 60),
        7200..172_800 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(59 * 60), "59m");
        assert_eq!(age(119 * 60), "119m");
        assert_eq!(age(26 * 3600), "26h");
        assert_eq!(age(47 * 3600), "47h");
        assert_eq!(age(9 * 86_400), "9d");
    }
}
