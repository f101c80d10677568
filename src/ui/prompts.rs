//! All prompting in one place (line mode): a flag or preset wins, else a prompt on a terminal,
//! else a typed "missing answer" error — never a hang.

use anyhow::{Result, bail};
use std::io::IsTerminal;

use crate::engine::events::BoxFuture;
use crate::engine::{Asker, ConnectionAnswer, Question};

pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// An inquire error as the run sees it: Ctrl-C or Esc at a prompt is the person stopping
/// the run, which ends as an interruption (exit 130), not as a failed step.
fn answer<T>(result: Result<T, inquire::InquireError>) -> Result<T> {
    match result {
        Ok(value) => Ok(value),
        Err(
            inquire::InquireError::OperationInterrupted | inquire::InquireError::OperationCanceled,
        ) => Err(anyhow::Error::new(crate::engine::Interrupted)),
        Err(e) => Err(e.into()),
    }
}

fn missing(what: &str, flag: &str) -> anyhow::Error {
    anyhow::anyhow!("missing answer: {what}. Pass {flag} (or put it in the --preset file)")
}

pub fn select(what: &str, flag: &str, options: Vec<String>, default: usize) -> Result<String> {
    if !interactive() {
        return Err(missing(what, flag));
    }
    answer(
        inquire::Select::new(what, options)
            .with_starting_cursor(default)
            .prompt(),
    )
}

pub fn text(
    what: &str,
    flag: &str,
    default: &str,
    validate: fn(&str) -> Result<(), String>,
) -> Result<String> {
    if !interactive() {
        return Err(missing(what, flag));
    }
    answer(
        inquire::Text::new(what)
            .with_default(default)
            .with_validator(move |s: &str| {
                Ok(match validate(s) {
                    Ok(()) => inquire::validator::Validation::Valid,
                    Err(msg) => inquire::validator::Validation::Invalid(msg.into()),
                })
            })
            .prompt(),
    )
}

pub fn confirm(what: &str, default: bool) -> Result<bool> {
    if !interactive() {
        bail!("missing answer: {what} Pass --yes to approve without asking");
    }
    answer(inquire::Confirm::new(what).with_default(default).prompt())
}

/// Asks on the terminal; refuses (with what to pass) when there is none.
pub struct LineAsker;

fn question_text(q: &Question) -> (String, bool) {
    match q {
        // The change set itself was just shown, as its event: the question only asks.
        Question::ApplyChangeSet {
            stack, account_id, ..
        } => (
            format!("Apply this change set to {stack} in account {account_id}?"),
            true,
        ),
        Question::DeleteFailedStack {
            stack,
            account_id,
            status,
            ..
        } => (
            format!(
                "{stack} in account {account_id} is {status} and must be deleted before it can be made again. Delete it?"
            ),
            true,
        ),
        Question::Destroy { deployment, stacks } => {
            // In the order cleanup deletes them: wave by wave.
            let mut stacks: Vec<_> = stacks.iter().collect();
            stacks.sort_by_key(|s| s.wave);
            let list: Vec<String> = stacks
                .iter()
                .map(|s| {
                    format!(
                        "  wave {}: {} ({} account {})",
                        s.wave + 1,
                        s.stack,
                        s.role,
                        s.account_id
                    )
                })
                .collect();
            (
                format!(
                    "{deployment} has these stacks:\n{}\nDelete every stack of {deployment}, in \
                     this order?",
                    list.join("\n")
                ),
                false,
            )
        }
        // Who asks was just shown, as the `connection_pending` event: the question only asks.
        Question::AcceptConnection { request, .. } => (
            format!("Accept the connection of {}?", request.endpoint_id),
            false,
        ),
    }
}

/// The three answers to a pending connection, as the line prompt offers them.
const CONNECTION_CHOICES: [(&str, ConnectionAnswer); 3] = [
    (
        "Accept: the consumer's instance may call the service",
        ConnectionAnswer::Accept,
    ),
    (
        "Later: leave it pending; `xwizard resume` asks again",
        ConnectionAnswer::Later,
    ),
    (
        "Reject: refuse it (a new endpoint must then be made)",
        ConnectionAnswer::Reject,
    ),
];

impl Asker for LineAsker {
    fn confirm<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<bool>> {
        let (text, default) = question_text(question);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let (context, ask) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
                if !context.is_empty() {
                    println!("{context}");
                }
                confirm(ask, default)
            })
            .await?
        })
    }

    fn connection<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<ConnectionAnswer>> {
        let (text, _) = question_text(question);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let options: Vec<String> = CONNECTION_CHOICES
                    .iter()
                    .map(|(l, _)| l.to_string())
                    .collect();
                let chosen = select(&text, "--accept-connection", options, 0)?;
                Ok(CONNECTION_CHOICES
                    .iter()
                    .find(|(l, _)| *l == chosen)
                    .map_or(ConnectionAnswer::Later, |(_, a)| *a))
            })
            .await?
        })
    }
}

/// Asks for an MFA code on the terminal, masked as it is typed and never shown afterwards.
pub struct LineCodePrompt;

impl crate::aws::mfa::CodePrompt for LineCodePrompt {
    fn ask<'a>(
        &'a self,
        serial: &'a str,
        profile: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<String>> {
        // Short, so that it fits a line: the device is named in the help below it.
        let what = format!("MFA code for {profile}?");
        let help = format!("the 6 digits that {serial} shows now");
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                answer(
                    inquire::Password::new(&what)
                        .with_display_mode(inquire::PasswordDisplayMode::Masked)
                        .without_confirmation()
                        .with_help_message(&help)
                        .with_validator(|s: &str| {
                            Ok(match crate::aws::mfa::check_code(s.trim()) {
                                Ok(()) => inquire::validator::Validation::Valid,
                                Err(msg) => inquire::validator::Validation::Invalid(msg.into()),
                            })
                        })
                        .prompt()
                        .map(|code| code.trim().to_string()),
                )
            })
            .await?
        })
    }
}
