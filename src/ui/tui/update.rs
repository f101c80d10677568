//! Everything that changes the interface goes through `update`: engine events, questions,
//! keys and clock ticks in; at most one `Action` for the runner out. No I/O here.

use crate::stack_status::Status;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::engine::{ConnectionAnswer, Event, Phase, Question, RunStatus};
use crate::plan::{self, Answers, Pattern, Role, Setting};
use crate::state::{Deployment, StepStatus};

use super::model::{
    CleanupStack, CleanupView, CostConfirm, Deletion, Failure, Field, Finished, Identity, Model,
    Overlay, ProfileRow, ResourceRow, Retrying, RunInfo, Screen, StackView, Then, Waiting,
};

use super::view::deploy::PAGE;

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

#[derive(Debug, Clone)]
pub enum Message {
    Engine(Event),
    Ask(Question),
    Key(KeyEvent),
    /// The clock: every elapsed time on screen is measured against the latest tick.
    Tick(Instant),
    Resize(u16, u16),
    /// The saved deployments, for the home screen, and when they were listed (Unix seconds:
    /// their ages are measured against it).
    Deployments(Vec<Deployment>, u64),
    /// The AWS profiles of the user's config, for the profiles screen.
    Profiles(Vec<ProfileRow>),
    /// What STS said about a profile the user picked (answer to `Action::VerifyProfile`):
    /// the account id and caller ARN, or the error in words.
    Identity {
        role: Role,
        profile: String,
        result: Result<(String, String), String>,
    },
    /// A profile's role needs the one-time code of this MFA device.
    AskCode {
        serial: String,
        profile: String,
    },
    /// The run the runner started ended in an error outside the event stream: a check before
    /// anything was made (name taken, same account, a profile that cannot sign in), or an
    /// engine error such as a question left unanswered.
    Stopped(String),
}

/// What the runner must do for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The answer to the pending yes/no `Question`.
    Answer(bool),
    /// The answer to the pending `Question::AcceptConnection`.
    Connection(ConnectionAnswer),
    /// Leave: restore the terminal. Confirmed by the user whenever a run is under way.
    Quit,
    /// Ask STS who this profile is; reply with `Message::Identity`.
    VerifyProfile {
        role: Role,
        profile: String,
    },
    /// Verify, save and run a new deployment.
    Start(Answers),
    Resume(String),
    Test(String),
    Destroy(String),
    /// Back to the home screen, with the deployments read anew.
    Home,
    /// The MFA code typed for the pending `Message::AskCode`; None when the user declined.
    Code(Option<String>),
}

pub fn update(model: &mut Model, message: Message) -> Option<Action> {
    match message {
        Message::Engine(event) => {
            on_event(model, event);
            None
        }
        Message::Ask(question) => {
            on_question(model, question);
            None
        }
        Message::Key(key) => on_key(model, key),
        Message::Tick(now) => {
            model.now = now;
            None
        }
        Message::Resize(..) => None,
        Message::Deployments(list, listed_at) => {
            model.deployments = list;
            model.listed_at = listed_at;
            model.home_cursor = model
                .home_cursor
                .min(model.deployments.len().saturating_sub(1));
            None
        }
        Message::Profiles(list) => {
            let form = &mut model.profiles;
            form.profiles = list;
            form.cursor = likely_profile(&form.profiles, form.focus);
            None
        }
        Message::Identity {
            role,
            profile,
            result,
        } => {
            let form = &mut model.profiles;
            // A late answer about a profile the user has since replaced is stale.
            if form.chosen(role) == Some(profile.as_str()) {
                *form.identity_mut(role) = match result {
                    Ok((account_id, arn)) => Identity::Verified { account_id, arn },
                    Err(message) => Identity::Failed { message },
                };
            }
            None
        }
        Message::Stopped(message) => {
            on_stopped(model, message);
            None
        }
        Message::AskCode { serial, profile } => {
            model.code_entry = Some(super::model::CodeEntry {
                serial,
                profile,
                typed: String::new(),
            });
            None
        }
    }
}

/// Keys while an MFA code is asked: digits, Backspace, Enter with six of them, Esc (or
/// Ctrl-C) to give none.
fn code_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    let entry = model.code_entry.as_mut()?;
    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
    match key.code {
        _ if ctrl_c => {
            model.code_entry = None;
            return Some(Action::Code(None));
        }
        KeyCode::Esc => {
            model.code_entry = None;
            return Some(Action::Code(None));
        }
        KeyCode::Char(c) if c.is_ascii_digit() && entry.typed.len() < 6 => entry.typed.push(c),
        KeyCode::Backspace => {
            entry.typed.pop();
        }
        KeyCode::Enter if entry.typed.len() == 6 => {
            let code = std::mem::take(&mut entry.typed);
            model.code_entry = None;
            return Some(Action::Code(Some(code)));
        }
        _ => {}
    }
    None
}

fn on_stopped(model: &mut Model, message: String) {
    let Some(name) = model.deployment_name().map(str::to_string) else {
        // Nothing was made: the answers stay on screen, with the reason beside them.
        model.params.error = Some((Field::Name, message));
        model.params.focus = Field::Name;
        model.screen = Screen::Parameters;
        return;
    };
    model.push_log(format!("stopped: {message}"));
    let step = model
        .steps
        .iter()
        .find(|s| s.status == StepStatus::Running)
        .map_or("run".to_string(), |s| s.id.clone());
    model.failure = Some(Failure {
        step,
        message,
        root_cause: None,
        next: format!("`xwizard resume {name}` carries on from where it stopped"),
    });
    model.acting.clear();
    model.finished = Some(Finished::Stopped);
    model.previous = Screen::Deploy;
    model.screen = Screen::Error;
}

/// A profile named for the role (e.g. sandbox-consumer) is the likely answer.
fn likely_profile(profiles: &[ProfileRow], role: Role) -> usize {
    profiles
        .iter()
        .position(|p| p.name.contains(role.as_str()))
        .unwrap_or(0)
}

fn hms(timestamp: &str) -> &str {
    timestamp.get(11..19).unwrap_or(timestamp)
}

fn on_event(model: &mut Model, event: Event) {
    let now = model.now;
    match event {
        Event::RunStarted {
            deployment,
            pattern,
            region,
            producer_account,
            consumer_account,
        } => {
            let same = model
                .run
                .as_ref()
                .is_some_and(|r| r.deployment == deployment);
            model.push_log(format!(
                "deployment {deployment} in {region}: producer {producer_account}, consumer {consumer_account}"
            ));
            model.run = Some(RunInfo {
                deployment,
                pattern,
                region,
                producer_account,
                consumer_account,
            });
            model.pattern = pattern;
            if !same || model.steps.is_empty() {
                model.seed_steps();
            } else {
                let run = model.run.clone();
                for row in &mut model.steps {
                    if let Some(r) = &run {
                        row.account_id = match row.role {
                            Role::Producer => r.producer_account.clone(),
                            Role::Consumer => r.consumer_account.clone(),
                        };
                    }
                }
            }
            model.finished = None;
            model.failure = None;
            model.waiting = None;
            model.screen = Screen::Deploy;
        }
        Event::StepStarted {
            step,
            title,
            role,
            account_id,
            phase,
            stack,
            wave,
        } => {
            model.acting.retain(|(s, _, _)| *s != step);
            model.acting.push((step.clone(), role, account_id.clone()));
            model.push_log(format!("▶ {step}: {title} [{role} · {account_id}]"));
            if phase == Phase::Cleanup {
                let stack = stack.unwrap_or_default();
                let cleanup = model.cleanup.get_or_insert_with(CleanupView::default);
                match cleanup.stacks.iter_mut().find(|s| s.step == step) {
                    Some(s) => s.state = Deletion::Deleting,
                    None => cleanup.stacks.push(CleanupStack {
                        step,
                        stack,
                        role: Some(role),
                        account_id,
                        wave: wave.unwrap_or_default(),
                        state: Deletion::Deleting,
                    }),
                }
                model.screen = Screen::Cleanup;
                return;
            }
            // A step beside a stack step (registering targets while the producer stack is
            // made) leaves that stack in sight.
            if stack.is_some() {
                model.stack = None;
            }
            if let Some(row) = model.steps.iter_mut().find(|s| s.id == step) {
                row.status = StepStatus::Running;
                row.started = Some(now);
                row.took = None;
                row.waited = Duration::ZERO;
                row.account_id = account_id;
            }
        }
        Event::ChangeSet { stack, changes, .. } => {
            let count = |a: &str| changes.iter().filter(|c| c.action == a).count();
            let access = changes.iter().filter(|c| c.access).count();
            let mut line = format!(
                "change set for {stack}: {} to add, {} to modify, {} to remove",
                count("Add"),
                count("Modify"),
                count("Remove")
            );
            if access > 0 {
                let _ = write!(line, ", {access} access changes");
            }
            model.push_log(line);
            model.change_sets.insert(stack, changes);
        }
        Event::StackEvent { step, stack, event } => {
            let view = match &mut model.stack {
                Some(v) if v.name == stack => v,
                slot => slot.insert(StackView {
                    step: step.clone(),
                    name: stack.clone(),
                    status: None,
                    resources: Vec::new(),
                }),
            };
            if let Some(c) = &mut model.cleanup
                && c.stacks.iter().any(|s| s.stack == stack)
            {
                // What each stack of the wave is deleting now, and since when.
                c.in_progress
                    .retain(|(s, id, _, _)| !(*s == stack && *id == event.logical_id));
                if Status(&event.status).in_progress() && event.resource_type != STACK_TYPE {
                    c.in_progress.push((
                        stack.clone(),
                        event.logical_id.clone(),
                        event.status.clone(),
                        now,
                    ));
                }
            }
            if event.resource_type == STACK_TYPE {
                view.status = Some(event.status.clone());
            } else {
                match view
                    .resources
                    .iter_mut()
                    .find(|r| r.logical_id == event.logical_id)
                {
                    Some(row) => {
                        row.status = event.status.clone();
                        row.reason = event.reason.clone();
                        row.last_seen = now;
                    }
                    None => view.resources.push(ResourceRow {
                        logical_id: event.logical_id.clone(),
                        resource_type: event.resource_type.clone(),
                        status: event.status.clone(),
                        reason: event.reason.clone(),
                        first_seen: now,
                        last_seen: now,
                    }),
                }
            }
            let mut line = format!(
                "{} {:<20} {}",
                hms(&event.timestamp),
                event.status,
                event.logical_id
            );
            // AWS's reason tells its two IN_PROGRESS events apart ("Resource creation
            // Initiated") and says why a resource failed.
            if !event.reason.is_empty() {
                let _ = write!(line, ": {}", event.reason);
            }
            model.push_log(line);
        }
        Event::Outputs { step, outputs } => {
            model.push_log(format!("{step}: {} outputs", outputs.len()));
            for (k, v) in outputs {
                match model
                    .outputs
                    .iter_mut()
                    .find(|(s, key, _)| *s == step && *key == k)
                {
                    Some(slot) => slot.2 = v,
                    None => model.outputs.push((step.clone(), k, v)),
                }
            }
        }
        Event::Info { step, message } => {
            model.push_log(format!("{step}: {message}"));
        }
        Event::CleanupResult {
            leftovers,
            removed,
            kept,
            clean,
        } => {
            for item in &removed {
                model.push_log(format!("cleanup: removed {item}"));
            }
            for item in &leftovers {
                model.push_log(format!("cleanup: still there: {item}"));
            }
            for item in &kept {
                model.push_log(format!("cleanup: kept on purpose: {}", item.what));
            }
            let cleanup = model.cleanup.get_or_insert_with(CleanupView::default);
            cleanup.leftovers = leftovers;
            cleanup.removed = removed;
            cleanup.kept = kept;
            cleanup.clean = clean;
            cleanup.in_progress.clear();
        }
        Event::CheckRetry {
            check,
            attempt,
            cause,
            ..
        } => {
            model.push_log(format!(
                "{check}: {cause} on attempt {attempt}, asking again"
            ));
            let retrying = match &mut model.retrying {
                Some(r) if r.check == check => r,
                slot => slot.insert(Retrying {
                    check,
                    attempts: Vec::new(),
                }),
            };
            retrying.attempts.push((attempt, cause));
            if model.screen == Screen::Deploy {
                model.screen = Screen::Tests;
            }
        }
        Event::Check { check, .. } => {
            model.push_log(format!(
                "{} {} → {} in {} ms",
                if check.passed { "PASS" } else { "FAIL" },
                check.name,
                check.status.map_or("no answer".into(), |s| s.to_string()),
                check.latency_ms
            ));
            let earlier = match model.retrying.take() {
                Some(r) if r.check == check.name => r.attempts,
                other => {
                    model.retrying = other;
                    Vec::new()
                }
            };
            model.checks.push(check);
            model.check_attempts.push(earlier);
            if matches!(model.screen, Screen::Deploy) {
                model.screen = Screen::Tests;
            }
        }
        Event::StepDone {
            step,
            phase,
            seconds,
            ..
        } => {
            model.acting.retain(|(s, _, _)| *s != step);
            if phase == Phase::Cleanup {
                if let Some(c) = &mut model.cleanup
                    && let Some(s) = c.stacks.iter_mut().find(|s| s.step == step)
                {
                    s.state = Deletion::Deleted;
                    let stack = s.stack.clone();
                    c.in_progress.retain(|(s, ..)| *s != stack);
                }
                model.push_log(format!("✔ {step} deleted in {seconds:.1}s"));
                return;
            }
            if let Some(row) = model.steps.iter_mut().find(|s| s.id == step) {
                row.status = StepStatus::Done;
                row.took = Some(Duration::from_secs_f64(seconds.max(0.0)));
            }
            model.push_log(format!("✔ {step} done in {seconds:.1}s"));
        }
        Event::StepFailed {
            step,
            phase,
            message,
            root_cause,
            next,
        } => {
            model.acting.retain(|(s, _, _)| *s != step);
            model.push_log(format!("✘ {step} failed: {message}"));
            if phase == Phase::Cleanup {
                let cleanup = model.cleanup.get_or_insert_with(CleanupView::default);
                if let Some(s) = cleanup.stacks.iter_mut().find(|s| s.step == step) {
                    s.state = Deletion::Failed;
                }
                cleanup.failures.push((message.clone(), root_cause.clone()));
                model.screen = Screen::Cleanup;
            } else {
                if let Some(row) = model.steps.iter_mut().find(|s| s.id == step) {
                    row.status = StepStatus::Failed;
                    // AWS's time: not the time its questions waited for the reader.
                    row.took = row.time(now, None);
                }
                model.screen = Screen::Error;
                model.previous = Screen::Deploy;
            }
            model.failure = Some(Failure {
                step,
                message,
                root_cause,
                next,
            });
        }
        Event::StepWaiting {
            step,
            message,
            next,
        } => {
            model.acting.retain(|(s, _, _)| *s != step);
            if let Some(row) = model.steps.iter_mut().find(|s| s.id == step) {
                row.status = StepStatus::Waiting;
                row.took = row.time(now, None);
            }
            model.push_log(format!("⏸ {step} waits: {message}"));
            model.waiting = Some(Waiting {
                step,
                message,
                next,
            });
        }
        Event::ConnectionPending { step, request } => {
            model.push_log(format!(
                "{step}: {} (account {}) asks to connect",
                request.endpoint_id, request.requester_account
            ));
        }
        Event::ConnectionAnswered {
            step,
            endpoint_id,
            answer,
            by,
        } => {
            model.push_log(format!(
                "{step}: {}",
                crate::ui::connection_answered(&endpoint_id, answer, &by)
            ));
        }
        Event::RunFinished { deployment, status } => {
            model.push_log(format!("{deployment}: {status}"));
            model.acting.clear();
            model.retrying = None;
            if model.screen == Screen::Deploy
                && status == RunStatus::Deployed
                && !model.checks.is_empty()
            {
                model.screen = Screen::Tests;
            }
            // Not a failure: the deployment screen says what waits and how to carry on.
            if status == RunStatus::Waiting && model.screen != Screen::Cleanup {
                model.screen = Screen::Deploy;
            }
            model.finished = Some(Finished::Run(status));
        }
    }
}

fn on_question(model: &mut Model, question: Question) {
    model.asked_since = Some(model.now);
    match &question {
        Question::ApplyChangeSet { .. } | Question::DeleteFailedStack { .. } => {
            if model.screen != Screen::Review {
                model.previous = model.screen;
            }
            model.screen = Screen::Review;
            model.review_scroll = 0;
        }
        Question::AcceptConnection { .. } => {
            if !matches!(model.screen, Screen::Review | Screen::Connection) {
                model.previous = model.screen;
            }
            model.screen = Screen::Connection;
            model.rejecting = false;
        }
        Question::Destroy { stacks, .. } => {
            let mut view = CleanupView::default();
            for s in stacks {
                view.stacks.push(CleanupStack {
                    step: s.step.clone(),
                    stack: s.stack.clone(),
                    role: Some(s.role),
                    account_id: s.account_id.clone(),
                    wave: s.wave,
                    state: Deletion::Waiting,
                });
            }
            // Deletion order: wave by wave, as the engine deletes them.
            view.stacks.sort_by_key(|s| s.wave);
            model.cleanup = Some(view);
            // A new operation on the deployment: the last run's verdict no longer applies.
            model.finished = None;
            // After a run's tests the results stay in sight, with the cleanup offered beneath
            // them: `c` opens the confirmation, `k` keeps everything.
            model.screen = if model.checks.is_empty() {
                Screen::Cleanup
            } else {
                Screen::Tests
            };
        }
    }
    model.question = Some(question);
}

fn on_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if model.code_entry.is_some() {
        return code_key(model, key);
    }
    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
    match model.overlay {
        Some(Overlay::QuitConfirm) => {
            match key.code {
                KeyCode::Char('y' | 'Y' | 'q') => return Some(Action::Quit),
                _ if ctrl_c => {
                    model.interrupted = true;
                    return Some(Action::Quit);
                }
                KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                    model.overlay = None;
                    model.interrupted = false;
                }
                _ => {}
            }
            return None;
        }
        Some(Overlay::Help) => {
            model.overlay = None;
            return None;
        }
        Some(Overlay::Resources | Overlay::Outputs) if !ctrl_c => {
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => model.detail_scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => {
                    model.detail_scroll = model.detail_scroll.saturating_sub(1)
                }
                KeyCode::PageDown => model.detail_scroll += PAGE,
                KeyCode::PageUp => model.detail_scroll = model.detail_scroll.saturating_sub(PAGE),
                KeyCode::Home => model.detail_scroll = 0,
                KeyCode::Char('q') => {
                    model.overlay = None;
                    return ask_quit(model);
                }
                KeyCode::Char('?') => model.overlay = Some(Overlay::Help),
                _ => model.overlay = None,
            }
            return None;
        }
        _ => {}
    }
    if ctrl_c {
        model.interrupted = true;
        return ask_quit(model);
    }
    if model.screen == Screen::Parameters {
        return parameters_key(model, key);
    }
    // The reject confirmation takes every key but Ctrl-C: it must not quit under the reader.
    if model.rejecting {
        return connection_key(model, key);
    }
    match key.code {
        KeyCode::Char('?') => {
            model.overlay = Some(Overlay::Help);
            return None;
        }
        KeyCode::Char('q') => return ask_quit(model),
        _ => {}
    }
    if model.question.is_some() && matches!(model.screen, Screen::Review | Screen::Cleanup) {
        match key.code {
            KeyCode::Char('y' | 'Y') => return Some(answer(model, true)),
            KeyCode::Char('n' | 'N') => return Some(answer(model, false)),
            _ => {}
        }
    }
    if model.screen == Screen::Tests
        && matches!(model.question, Some(Question::Destroy { .. }))
        && matches!(key.code, KeyCode::Char('k' | 'K' | 'n' | 'N'))
    {
        return Some(answer(model, false));
    }
    match model.screen {
        Screen::Home => home_key(model, key),
        Screen::PatternChoice => {
            pattern_key(model, key);
            None
        }
        Screen::Connection => connection_key(model, key),
        Screen::Profiles => profiles_key(model, key),
        Screen::Parameters => None,
        Screen::Review => {
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => model.review_scroll += 1,
                KeyCode::Up | KeyCode::Char('k') => {
                    model.review_scroll = model.review_scroll.saturating_sub(1)
                }
                _ => {}
            }
            None
        }
        Screen::Deploy | Screen::Tests | Screen::Cleanup | Screen::Error => run_key(model, key),
    }
}

fn ask_quit(model: &mut Model) -> Option<Action> {
    if model.screen == Screen::Home && !model.running() {
        return Some(Action::Quit);
    }
    model.overlay = Some(Overlay::QuitConfirm);
    None
}

/// The time the question waited is the reader's, not AWS's: the running steps' timers pick
/// up where they stopped.
fn restart_clock(model: &mut Model) {
    if let Some(since) = model.asked_since.take() {
        let waited = model.now.saturating_duration_since(since);
        for row in model.steps.iter_mut().filter(|s| s.took.is_none()) {
            if row.started.is_some() {
                row.waited += waited;
            }
        }
    }
}

fn answer(model: &mut Model, yes: bool) -> Action {
    restart_clock(model);
    if let Some(q) = model.question.take() {
        let what = match &q {
            Question::ApplyChangeSet { stack, .. } => format!("change set for {stack}"),
            Question::DeleteFailedStack { stack, .. } => format!("deleting failed {stack}"),
            Question::Destroy { deployment, .. } => format!("destroying {deployment}"),
            Question::AcceptConnection { request, .. } => {
                format!("accepting the connection of {}", request.endpoint_id)
            }
        };
        model.push_log(format!("{}: {what}", if yes { "yes" } else { "no" }));
        if model.screen == Screen::Review {
            model.screen = match model.previous {
                Screen::Review => Screen::Deploy,
                s => s,
            };
        }
    }
    Action::Answer(yes)
}

fn home_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    let selected = model.selected_deployment().map(|d| d.name.clone());
    match key.code {
        KeyCode::Down | KeyCode::Char('j') if model.home_cursor + 1 < model.deployments.len() => {
            model.home_cursor += 1
        }
        KeyCode::Up | KeyCode::Char('k') => model.home_cursor = model.home_cursor.saturating_sub(1),
        KeyCode::Char('n') => model.screen = Screen::PatternChoice,
        KeyCode::Char('r') | KeyCode::Enter => return selected.map(Action::Resume),
        KeyCode::Char('t') => return selected.map(Action::Test),
        KeyCode::Char('d') => return selected.map(Action::Destroy),
        _ => {}
    }
    None
}

fn other(role: Role) -> Role {
    match role {
        Role::Producer => Role::Consumer,
        Role::Consumer => Role::Producer,
    }
}

fn profiles_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    let form = &mut model.profiles;
    match key.code {
        KeyCode::Down | KeyCode::Char('j') if form.cursor + 1 < form.profiles.len() => {
            form.cursor += 1
        }
        KeyCode::Up | KeyCode::Char('k') => form.cursor = form.cursor.saturating_sub(1),
        KeyCode::Tab | KeyCode::BackTab => form.focus = other(form.focus),
        KeyCode::Char('a') if form.same_account().is_some() => {
            form.allow_same_account = !form.allow_same_account
        }
        KeyCode::Esc => model.screen = Screen::PatternChoice,
        KeyCode::Char('c') if form.ready() => enter_parameters(model),
        KeyCode::Enter => {
            let profile = form.profiles.get(form.cursor)?.name.clone();
            let role = form.focus;
            match role {
                Role::Producer => form.producer = Some(profile.clone()),
                Role::Consumer => form.consumer = Some(profile.clone()),
            }
            *form.identity_mut(role) = Identity::Checking;
            if form.chosen(other(role)).is_none() {
                form.focus = other(role);
                form.cursor = likely_profile(&form.profiles, form.focus);
            }
            return Some(Action::VerifyProfile { role, profile });
        }
        _ => {}
    }
    None
}

fn enter_parameters(model: &mut Model) {
    let p = &mut model.params;
    if p.region.is_empty() {
        p.region = model
            .profiles
            .producer
            .as_deref()
            .and_then(|name| model.profiles.profile(name))
            .and_then(|row| row.region.clone())
            .unwrap_or_else(|| "us-east-1".into());
    }
    if p.name.is_empty() {
        p.name = model.suggested_name.clone();
    }
    p.focus = Field::Region;
    p.error = None;
    p.cycled_from = None;
    p.confirming = None;
    model.screen = Screen::Parameters;
}

/// The pattern screen: ↑↓ (or j/k) switch between the patterns, their digit picks one.
fn pattern_key(model: &mut Model, key: KeyEvent) {
    let all = Pattern::ALL;
    let at = all.iter().position(|p| *p == model.pattern).unwrap_or(0);
    let chosen = match key.code {
        KeyCode::Enter | KeyCode::Right => {
            model.screen = Screen::Profiles;
            model.profiles.focus = Role::Producer;
            model.profiles.cursor = likely_profile(&model.profiles.profiles, Role::Producer);
            return;
        }
        KeyCode::Esc | KeyCode::Left => {
            model.screen = Screen::Home;
            return;
        }
        KeyCode::Down | KeyCode::Char('j') => all[(at + 1) % all.len()],
        KeyCode::Up | KeyCode::Char('k') => all[(at + all.len() - 1) % all.len()],
        KeyCode::Char(c) => match all
            .iter()
            .find(|p| c.to_digit(10) == Some(p.number().into()))
        {
            Some(p) => *p,
            None => return,
        },
        _ => return,
    };
    choose_pattern(model, chosen);
}

/// Another pattern: the offered name takes its prefix (`vpce-1a2b` → `mtls-1a2b`), and so
/// does the name field while it still holds the offered one.
fn choose_pattern(model: &mut Model, pattern: Pattern) {
    if pattern == model.pattern {
        return;
    }
    model.pattern = pattern;
    let offered = &model.suggested_name;
    let renamed = match offered.split_once('-') {
        Some((_, id)) => format!("{}-{id}", pattern.short()),
        None => format!("{}-{offered}", pattern.short()),
    };
    if model.params.name == *offered {
        model.params.name = renamed.clone();
    }
    model.suggested_name = renamed;
}

/// The setting of the pattern on screen with this key.
fn setting_of(model: &Model, key: &str) -> Option<&'static Setting> {
    model.pattern.settings().iter().find(|s| s.key == key)
}

/// The setting the focused field edits, if it is one.
fn focused_setting(model: &Model) -> Option<&'static Setting> {
    match model.params.focus {
        Field::Setting(key) => setting_of(model, key),
        _ => None,
    }
}

fn parameters_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    if model.params.confirming.is_some() {
        return cost_key(model, key);
    }
    let setting = focused_setting(model);
    let choice = setting.filter(|s| !s.choices.is_empty());
    match key.code {
        KeyCode::Esc => {
            undo_unconfirmed(model);
            model.screen = Screen::Profiles;
        }
        KeyCode::Tab | KeyCode::Down => return leave_field(model, Then::Next),
        KeyCode::BackTab | KeyCode::Up => return leave_field(model, Then::Previous),
        KeyCode::Enter => return leave_field(model, Then::Deploy),
        KeyCode::Right | KeyCode::Char(' ') | KeyCode::Left if choice.is_some() => {
            if let Some(s) = choice {
                cycle(model, s, key.code != KeyCode::Left);
            }
        }
        // A closed list takes no typing.
        _ if choice.is_some() => {}
        KeyCode::Backspace => {
            if let Some(text) = text_field(model, setting) {
                text.pop();
            }
            model.params.error = None;
        }
        KeyCode::Char(c) if !c.is_control() => {
            if let Some(text) = text_field(model, setting) {
                text.push(c);
            }
            model.params.error = None;
        }
        _ => {}
    }
    None
}

/// The text the focused field edits: a setting's starts from the value shown (its default
/// until changed).
fn text_field<'m>(model: &'m mut Model, setting: Option<&Setting>) -> Option<&'m mut String> {
    match model.params.focus {
        Field::Region => Some(&mut model.params.region),
        Field::Name => Some(&mut model.params.name),
        Field::Setting(key) => {
            let shown = model.setting_value(setting?);
            Some(model.settings.entry(key.to_string()).or_insert(shown))
        }
    }
}

/// The next or previous choice of a closed list; the one it had before is kept until the
/// field is left, for a declined cost confirmation to go back to.
fn cycle(model: &mut Model, setting: &'static Setting, forward: bool) {
    let current = model.setting_value(setting);
    let n = setting.choices.len();
    let at = setting
        .choices
        .iter()
        .position(|c| c.value == current)
        .unwrap_or(0);
    let next = if forward {
        (at + 1) % n
    } else {
        (at + n - 1) % n
    };
    let p = &mut model.params;
    if p.cycled_from
        .as_ref()
        .is_none_or(|(k, _)| *k != setting.key)
    {
        p.cycled_from = Some((setting.key, current));
    }
    p.error = None;
    model
        .settings
        .insert(setting.key.to_string(), setting.choices[next].value.into());
}

/// The choice the focused field now shows, when it costs money and was changed on screen:
/// it must be confirmed before it is taken. A flag or a preset naming it is confirmation.
fn unconfirmed(model: &Model) -> Option<(&'static str, String)> {
    let setting = focused_setting(model)?;
    let (key, before) = model.params.cycled_from.clone()?;
    let now = model.setting_value(setting);
    (key == setting.key && now != before && setting.choice(&now)?.confirm.is_some())
        .then_some((key, before))
}

/// Leaving the field (or the screen): a costly choice not yet confirmed asks first.
fn leave_field(model: &mut Model, then: Then) -> Option<Action> {
    if let Some((key, previous)) = unconfirmed(model) {
        model.params.confirming = Some(CostConfirm {
            key,
            previous,
            then,
        });
        return None;
    }
    model.params.cycled_from = None;
    go_on(model, then)
}

/// Back to the choice a field had before it was cycled onto a costly one.
fn undo_unconfirmed(model: &mut Model) {
    if let Some((key, previous)) = unconfirmed(model) {
        model.settings.insert(key.to_string(), previous);
    }
    model.params.cycled_from = None;
}

/// The cost confirmation: `y` takes the choice, `n` or Esc goes back to the one before.
fn cost_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    let confirm = model.params.confirming.clone()?;
    match key.code {
        KeyCode::Char('y' | 'Y') => {
            model.params.confirming = None;
            model.params.cycled_from = None;
            go_on(model, confirm.then)
        }
        KeyCode::Char('n' | 'N') | KeyCode::Esc => {
            model.params.confirming = None;
            model.params.cycled_from = None;
            model
                .settings
                .insert(confirm.key.to_string(), confirm.previous);
            None
        }
        _ => None,
    }
}

/// Moves to the next or previous field, or checks everything and starts.
fn go_on(model: &mut Model, then: Then) -> Option<Action> {
    let fields = model.fields();
    let at = fields
        .iter()
        .position(|f| *f == model.params.focus)
        .unwrap_or(0);
    let n = fields.len();
    match then {
        Then::Next => model.params.focus = fields[(at + 1) % n],
        Then::Previous => model.params.focus = fields[(at + n - 1) % n],
        Then::Deploy => return deploy(model),
    }
    None
}

/// Every field checked, the first wrong one focused with its error; else the run starts.
fn deploy(model: &mut Model) -> Option<Action> {
    let region = model.params.region.trim().to_string();
    let name = model.params.name.trim().to_string();
    let taken = model.deployments.iter().any(|d| d.name == name);
    let mut checks: Vec<(Field, Result<(), String>)> = vec![
        (Field::Region, plan::validate_region(&region)),
        (
            Field::Name,
            plan::validate_deployment_name(&name).and_then(|()| {
                if taken {
                    Err(format!(
                        "a deployment named '{name}' exists already: resume it from the home \
                         screen, or choose another name"
                    ))
                } else {
                    Ok(())
                }
            }),
        ),
    ];
    let shown = model.settings_shown();
    for (setting, value) in &shown {
        let value = value.trim();
        let checked = if value.is_empty() {
            Err(format!("an answer is needed: {}", setting.help))
        } else {
            setting.check(value)
        };
        checks.push((Field::Setting(setting.key), checked));
    }
    if let Some((field, Err(e))) = checks.into_iter().find(|(_, c)| c.is_err()) {
        model.params.error = Some((field, e));
        model.params.focus = field;
        return None;
    }
    let mut settings: std::collections::BTreeMap<String, String> = shown
        .into_iter()
        .map(|(s, v)| (s.key.to_string(), v.trim().to_string()))
        .collect();
    if !model.pattern.settings().is_empty() {
        settings.extend(model.standing.clone());
    }
    let form = &model.profiles;
    Some(Action::Start(Answers {
        pattern: model.pattern,
        producer_profile: form.producer.clone().unwrap_or_default(),
        consumer_profile: form.consumer.clone().unwrap_or_default(),
        region,
        name,
        allow_same_account: form.allow_same_account,
        settings,
    }))
}

/// The connection screen: `a` accepts, `r` asks y/n then rejects, `l` or Esc leaves it for
/// later.
fn connection_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    if !matches!(model.question, Some(Question::AcceptConnection { .. })) {
        model.rejecting = false;
        if key.code == KeyCode::Esc {
            model.screen = Screen::Deploy;
        }
        return None;
    }
    if model.rejecting {
        match key.code {
            KeyCode::Char('y' | 'Y') => {
                return Some(answer_connection(model, ConnectionAnswer::Reject));
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => model.rejecting = false,
            _ => {}
        }
        return None;
    }
    match key.code {
        KeyCode::Char('a' | 'A') => Some(answer_connection(model, ConnectionAnswer::Accept)),
        KeyCode::Char('r' | 'R') => {
            model.rejecting = true;
            None
        }
        KeyCode::Char('l' | 'L') | KeyCode::Esc => {
            Some(answer_connection(model, ConnectionAnswer::Later))
        }
        _ => None,
    }
}

fn answer_connection(model: &mut Model, answer: ConnectionAnswer) -> Action {
    restart_clock(model);
    model.rejecting = false;
    // The engine's `ConnectionAnswered` says what was answered, in the log.
    model.question = None;
    model.screen = match model.previous {
        Screen::Review | Screen::Connection => Screen::Deploy,
        s => s,
    };
    Action::Connection(answer)
}

fn run_key(model: &mut Model, key: KeyEvent) -> Option<Action> {
    // The log scrolls in screen rows; the view clamps what is past its top.
    let rows = model.log.len() * 4;
    let on_deploy = model.screen == Screen::Deploy;
    match key.code {
        KeyCode::Up | KeyCode::Char('k') if on_deploy => {
            model.log_scroll = (model.log_scroll + 1).min(rows)
        }
        KeyCode::Down | KeyCode::Char('j') if on_deploy => {
            model.log_scroll = model.log_scroll.saturating_sub(1)
        }
        KeyCode::PageUp if on_deploy => model.log_scroll = (model.log_scroll + PAGE).min(rows),
        KeyCode::PageDown if on_deploy => model.log_scroll = model.log_scroll.saturating_sub(PAGE),
        KeyCode::End if on_deploy => model.log_scroll = 0,
        KeyCode::Char('r') if on_deploy && model.stack.is_some() => {
            model.detail_scroll = 0;
            model.overlay = Some(Overlay::Resources);
        }
        KeyCode::Char('o') if on_deploy && !model.outputs.is_empty() => {
            model.detail_scroll = 0;
            model.overlay = Some(Overlay::Outputs);
        }
        KeyCode::Char('t') if !model.checks.is_empty() || model.retrying.is_some() => {
            model.screen = Screen::Tests
        }
        KeyCode::Char('e') if model.failure.is_some() => model.screen = Screen::Error,
        KeyCode::Char('c') if model.cleanup.is_some() => model.screen = Screen::Cleanup,
        // Back to the list once nothing runs: the runner reads the deployments anew.
        KeyCode::Esc if on_deploy && !model.running() => return Some(Action::Home),
        KeyCode::Char('l') | KeyCode::Esc if !model.steps.is_empty() => {
            model.screen = Screen::Deploy
        }
        _ => {}
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::stacks::StackEvent;
    use crate::engine::{ChangeView, CheckView, StackToDelete};
    use crate::plan::Pattern;
    use crate::state::RootCause;
    use crate::ui::tui::theme::Theme;

    fn key(c: char) -> Message {
        Message::Key(KeyEvent::from(KeyCode::Char(c)))
    }

    fn started(t0: Instant) -> Model {
        let mut m = Model::new(Theme::plain(), t0);
        update(
            &mut m,
            Message::Engine(Event::RunStarted {
                deployment: "vpce-demo".into(),
                pattern: Pattern::VpcEndpoint,
                region: "us-east-1".into(),
                producer_account: "111111111111".into(),
                consumer_account: "222222222222".into(),
            }),
        );
        update(
            &mut m,
            Message::Engine(Event::StepStarted {
                step: "consumer-vpc".into(),
                title: "Consumer network".into(),
                role: Role::Consumer,
                account_id: "222222222222".into(),
                phase: Phase::Deploy,
                stack: Some("xw-vpce-demo-consumer-vpc".into()),
                wave: None,
            }),
        );
        m
    }

    fn to_delete(step: &str, role: Role, wave: u8) -> StackToDelete {
        StackToDelete {
            step: step.into(),
            stack: format!("xw-vpce-demo-{step}"),
            role,
            account_id: match role {
                Role::Producer => "111111111111".into(),
                Role::Consumer => "222222222222".into(),
            },
            wave,
        }
    }

    fn stack_event(logical: &str, status: &str) -> Message {
        Message::Engine(Event::StackEvent {
            step: "consumer-vpc".into(),
            stack: "xw-vpce-demo-consumer-vpc".into(),
            event: StackEvent {
                event_id: format!("{logical}-{status}"),
                timestamp: "2025-01-01T10:00:00Z".into(),
                logical_id: logical.into(),
                physical_id: String::new(),
                resource_type: "AWS::EC2::VPC".into(),
                status: status.into(),
                reason: String::new(),
            },
        })
    }

    #[test]
    fn a_stack_event_for_a_new_logical_id_adds_a_resource_row() {
        let t0 = Instant::now();
        let mut m = started(t0);
        update(&mut m, stack_event("Vpc", "CREATE_IN_PROGRESS"));
        update(&mut m, Message::Tick(t0 + Duration::from_secs(7)));
        update(&mut m, stack_event("Vpc", "CREATE_COMPLETE"));
        update(&mut m, stack_event("Subnet", "CREATE_IN_PROGRESS"));
        let stack = m.stack.as_ref().expect("a stack view");
        assert_eq!(stack.resources.len(), 2);
        assert_eq!(stack.resources[0].status, "CREATE_COMPLETE");
        assert_eq!(
            stack.resources[0].elapsed(t0 + Duration::from_secs(60)),
            Duration::from_secs(7),
            "a finished resource's time stops"
        );
        assert_eq!(stack.resources[1].logical_id, "Subnet");
        assert_eq!(
            m.acting,
            [("consumer-vpc".into(), Role::Consumer, "222222222222".into())]
        );
    }

    #[test]
    fn the_clock_moves_the_screen_only_while_a_timer_runs_unasked() {
        let t0 = Instant::now();
        let idle = Model::new(Theme::plain(), t0);
        assert!(!idle.clock_shown(), "the home screen has no timer");
        let mut m = started(t0);
        assert!(m.clock_shown(), "a running step's timer");
        update(&mut m, apply_question());
        assert!(!m.clock_shown(), "stopped while the change set is read");
        update(&mut m, key('y'));
        assert!(m.clock_shown());
        update(
            &mut m,
            Message::Engine(Event::StepDone {
                step: "consumer-vpc".into(),
                phase: Phase::Deploy,
                seconds: 1.0,
                api_calls: 1,
            }),
        );
        assert!(!m.clock_shown(), "nothing runs");
    }

    #[test]
    fn step_failed_shows_the_error_screen_with_the_root_cause() {
        let mut m = started(Instant::now());
        let cause = RootCause {
            logical_id: "ConsumerNlb".into(),
            resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer".into(),
            status: "CREATE_FAILED".into(),
            reason: "Injected failure".into(),
        };
        update(
            &mut m,
            Message::Engine(Event::StepFailed {
                step: "consumer-vpc".into(),
                phase: Phase::Deploy,
                message: "stack failed".into(),
                root_cause: Some(cause.clone()),
                next: "xwizard resume vpce-demo".into(),
            }),
        );
        assert_eq!(m.screen, Screen::Error);
        assert_eq!(
            m.failure.as_ref().and_then(|f| f.root_cause.clone()),
            Some(cause)
        );
        assert_eq!(
            m.step_row("consumer-vpc").map(|s| s.status),
            Some(StepStatus::Failed)
        );
    }

    fn apply_question() -> Message {
        Message::Ask(Question::ApplyChangeSet {
            step: "consumer-vpc".into(),
            stack: "xw-vpce-demo-consumer-vpc".into(),
            account_id: "222222222222".into(),
            changes: vec![ChangeView {
                action: "Add".into(),
                logical_id: "Role".into(),
                resource_type: "AWS::IAM::Role".into(),
                replacement: None,
                access: true,
                replaced_by: Vec::new(),
                details: Vec::new(),
            }],
        })
    }

    #[test]
    fn a_change_set_question_is_reviewed_and_answered_with_y_or_n() {
        let mut m = started(Instant::now());
        update(&mut m, apply_question());
        assert_eq!(m.screen, Screen::Review);
        assert_eq!(update(&mut m, key('x')), None);
        assert_eq!(update(&mut m, key('y')), Some(Action::Answer(true)));
        assert_eq!(m.screen, Screen::Deploy);
        assert!(m.question.is_none());
        update(&mut m, apply_question());
        assert_eq!(update(&mut m, key('n')), Some(Action::Answer(false)));
        // No question pending: `y` answers nothing.
        assert_eq!(update(&mut m, key('y')), None);
    }

    #[test]
    fn q_asks_before_quitting() {
        let mut m = started(Instant::now());
        assert_eq!(update(&mut m, key('q')), None);
        assert_eq!(m.overlay, Some(Overlay::QuitConfirm));
        assert_eq!(update(&mut m, key('n')), None);
        assert_eq!(m.overlay, None);
        update(&mut m, key('q'));
        assert_eq!(update(&mut m, key('y')), Some(Action::Quit));
    }

    #[test]
    fn the_destroy_question_lists_stacks_in_deletion_order_and_y_answers_it() {
        let mut m = started(Instant::now());
        update(
            &mut m,
            Message::Ask(Question::Destroy {
                deployment: "vpce-demo".into(),
                stacks: vec![
                    to_delete("consumer-vpc", Role::Consumer, 2),
                    to_delete("producer", Role::Producer, 1),
                ],
            }),
        );
        assert_eq!(m.screen, Screen::Cleanup);
        let order: Vec<&str> = m
            .cleanup
            .as_ref()
            .map(|c| c.stacks.iter().map(|s| s.stack.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            order,
            ["xw-vpce-demo-producer", "xw-vpce-demo-consumer-vpc"]
        );
        assert_eq!(update(&mut m, key('y')), Some(Action::Answer(true)));
        assert_eq!(m.screen, Screen::Cleanup, "the cleanup stays in sight");
    }

    #[test]
    fn after_the_tests_the_cleanup_is_offered_on_the_results_screen() {
        let destroy = || {
            Message::Ask(Question::Destroy {
                deployment: "vpce-demo".into(),
                stacks: vec![to_delete("producer", Role::Producer, 1)],
            })
        };
        let mut m = started(Instant::now());
        update(
            &mut m,
            Message::Engine(Event::Check {
                step: "test".into(),
                check: CheckView {
                    name: "consumer function".into(),
                    request: "Lambda Invoke xw-vpce-demo-consumer-fn".into(),
                    expected: "200".into(),
                    status: Some(200),
                    body: "{}".into(),
                    latency_ms: 200,
                    passed: true,
                    attempts: 1,
                },
            }),
        );
        update(&mut m, destroy());
        assert_eq!(m.screen, Screen::Tests, "the results stay in sight");
        // `y` deletes nothing from here: only the confirmation screen takes it.
        assert_eq!(update(&mut m, key('y')), None);
        assert!(m.question.is_some());
        // `c` opens the confirmation, which still needs `y`.
        assert_eq!(update(&mut m, key('c')), None);
        assert_eq!(m.screen, Screen::Cleanup);
        assert_eq!(update(&mut m, key('t')), None);
        assert_eq!(m.screen, Screen::Tests);
        // `k` keeps everything, answering from the results screen.
        assert_eq!(update(&mut m, key('k')), Some(Action::Answer(false)));
        assert!(m.question.is_none());
        assert_eq!(m.screen, Screen::Tests);
        // `n` does too; with nothing asked, `k` answers nothing.
        update(&mut m, destroy());
        assert_eq!(update(&mut m, key('n')), Some(Action::Answer(false)));
        assert_eq!(update(&mut m, key('k')), None);
    }

    #[test]
    fn a_stop_before_anything_was_made_shows_beside_the_answers_and_after_on_the_error_screen() {
        let mut m = Model::new(Theme::plain(), Instant::now());
        m.screen = Screen::Parameters;
        update(
            &mut m,
            Message::Stopped("both profiles are account 1".into()),
        );
        assert_eq!(m.screen, Screen::Parameters);
        assert!(matches!(&m.params.error, Some((Field::Name, e)) if e.contains("account 1")));

        let mut m = started(Instant::now());
        update(&mut m, Message::Stopped("missing answer".into()));
        assert_eq!(m.screen, Screen::Error);
        assert_eq!(
            m.failure.as_ref().map(|f| f.step.as_str()),
            Some("consumer-vpc")
        );
        assert!(!m.running(), "quitting now has nothing to interrupt");
    }

    #[test]
    fn q_on_the_home_screen_with_nothing_running_quits() {
        let mut m = Model::new(Theme::plain(), Instant::now());
        assert_eq!(update(&mut m, key('q')), Some(Action::Quit));
    }

    #[test]
    fn the_parameters_screen_checks_the_name_inline() {
        let mut m = Model::new(Theme::plain(), Instant::now());
        m.screen = Screen::Parameters;
        m.params.region = "us-east-1".into();
        m.params.name = "Bad_Name".into();
        assert_eq!(
            update(&mut m, Message::Key(KeyEvent::from(KeyCode::Enter))),
            None
        );
        assert!(matches!(m.params.error, Some((Field::Name, _))));
        // `q` is text here, not quit.
        update(&mut m, Message::Key(KeyEvent::from(KeyCode::Tab)));
        update(&mut m, key('q'));
        assert_eq!(m.params.region, "us-east-1q");
        assert_eq!(m.overlay, None);
    }

    #[test]
    fn picking_a_profile_asks_for_its_identity_and_a_stale_answer_is_ignored() {
        let mut m = Model::new(Theme::plain(), Instant::now());
        m.screen = Screen::Profiles;
        update(
            &mut m,
            Message::Profiles(
                ["default", "sandbox-consumer", "sandbox-producer"]
                    .iter()
                    .map(|n| ProfileRow {
                        name: n.to_string(),
                        kind: "keys".into(),
                        region: None,
                    })
                    .collect(),
            ),
        );
        assert_eq!(m.profiles.cursor, 2);
        let action = update(&mut m, Message::Key(KeyEvent::from(KeyCode::Enter)));
        assert_eq!(
            action,
            Some(Action::VerifyProfile {
                role: Role::Producer,
                profile: "sandbox-producer".into()
            })
        );
        assert_eq!(m.profiles.focus, Role::Consumer);
        assert_eq!(m.profiles.cursor, 1);
        update(
            &mut m,
            Message::Identity {
                role: Role::Producer,
                profile: "default".into(),
                result: Ok(("999".into(), "arn".into())),
            },
        );
        assert_eq!(m.profiles.producer_identity, Identity::Checking);
    }

    fn code(c: KeyCode) -> Message {
        Message::Key(KeyEvent::from(c))
    }

    #[test]
    fn the_pattern_screen_switches_with_arrows_and_digits_and_renames_the_offer() {
        let mut m = Model::new(Theme::plain(), Instant::now());
        m.suggested_name = "vpce-1a2b".into();
        update(&mut m, key('n'));
        assert_eq!(m.screen, Screen::PatternChoice);
        update(&mut m, code(KeyCode::Down));
        assert_eq!(m.pattern, Pattern::MtlsPrivateLink);
        assert_eq!(m.suggested_name, "mtls-1a2b");
        update(&mut m, code(KeyCode::Down));
        assert_eq!(m.pattern, Pattern::VpcEndpoint, "it wraps round");
        update(&mut m, key('2'));
        assert_eq!(m.pattern, Pattern::MtlsPrivateLink);
        update(&mut m, key('7'));
        assert_eq!(m.pattern, Pattern::MtlsPrivateLink, "no pattern 7");
        update(&mut m, key('1'));
        assert_eq!(m.pattern, Pattern::VpcEndpoint);
        assert_eq!(m.suggested_name, "vpce-1a2b");
    }

    /// The parameters screen of Pattern 2 with the sandbox's domain given and the
    /// connection accepted by flag.
    fn pattern_2_parameters() -> Model {
        let mut m = Model::new(Theme::plain(), Instant::now());
        m.pattern = Pattern::MtlsPrivateLink;
        m.settings.insert("domain".into(), "xwizard.test".into());
        m.standing.insert("accept_connection".into(), "yes".into());
        m.profiles.producer = Some("sandbox-producer".into());
        m.profiles.consumer = Some("sandbox-consumer".into());
        m.params.region = "us-east-1".into();
        m.params.name = "mtls-demo".into();
        m.screen = Screen::Parameters;
        m
    }

    fn typed(m: &mut Model, text: &str) {
        for c in text.chars() {
            update(m, key(c));
        }
    }

    fn start_settings(action: Option<Action>) -> BTreeMap<String, String> {
        match action {
            Some(Action::Start(answers)) => answers.settings,
            other => panic!("no start: {other:?}"),
        }
    }

    use std::collections::BTreeMap;

    #[test]
    fn pattern_2_settings_follow_the_answers_and_travel_with_the_start() {
        let mut m = pattern_2_parameters();
        let keys = |m: &Model| -> Vec<Field> { m.fields() };
        assert_eq!(
            keys(&m),
            [
                Field::Region,
                Field::Name,
                Field::Setting("domain"),
                Field::Setting("subdomain"),
                Field::Setting("ca"),
            ]
        );
        // The subdomain follows the name until it is typed into.
        update(&mut m, code(KeyCode::Tab));
        typed(&mut m, "x");
        assert_eq!(m.params.name, "mtls-demox");
        let shown = m.settings_shown();
        assert_eq!(shown[1].1, "mtls-demox");
        update(&mut m, code(KeyCode::Backspace));
        // Up goes back, Tab on: to the CA, a closed list that takes no typing.
        update(&mut m, code(KeyCode::Up));
        assert_eq!(m.params.focus, Field::Region);
        for _ in 0..4 {
            update(&mut m, code(KeyCode::Tab));
        }
        assert_eq!(m.params.focus, Field::Setting("ca"));
        typed(&mut m, "zz");
        assert_eq!(m.setting_value(&plan::pattern2::SETTINGS[2]), "local");
        // Left from the first choice: the last, a CA brought as files, asks for two files.
        update(&mut m, code(KeyCode::Left));
        assert_eq!(m.settings["ca"], plan::pattern2::CA_BRING);
        assert_eq!(keys(&m).len(), 7);
        update(&mut m, code(KeyCode::Left));
        assert_eq!(m.settings["ca"], plan::pattern2::CA_EXISTING);
        assert_eq!(keys(&m).last(), Some(&Field::Setting("ca_arn")));
        // Enter checks every field: the ARN is missing.
        assert_eq!(update(&mut m, code(KeyCode::Enter)), None);
        assert_eq!(m.params.focus, Field::Setting("ca_arn"));
        assert!(
            matches!(&m.params.error, Some((Field::Setting("ca_arn"), e)) if e.contains("needed")),
            "{:?}",
            m.params.error
        );
        typed(
            &mut m,
            "arn:aws:acm-pca:us-east-1:111111111111:certificate-authority/ab",
        );
        let settings = start_settings(update(&mut m, code(KeyCode::Enter)));
        assert_eq!(
            settings,
            BTreeMap::from(
                [
                    ("accept_connection", "yes"),
                    ("ca", "existing-private-ca"),
                    (
                        "ca_arn",
                        "arn:aws:acm-pca:us-east-1:111111111111:certificate-authority/ab"
                    ),
                    ("domain", "xwizard.test"),
                    ("subdomain", "mtls-demo"),
                ]
                .map(|(k, v)| (k.to_string(), v.to_string()))
            )
        );
    }

    #[test]
    fn a_wrong_domain_is_said_beside_it_and_pattern_1_starts_with_no_settings() {
        let mut m = pattern_2_parameters();
        m.settings.insert("domain".into(), "Not A Domain".into());
        assert_eq!(update(&mut m, code(KeyCode::Enter)), None);
        assert_eq!(m.params.focus, Field::Setting("domain"));
        assert!(
            matches!(&m.params.error, Some((_, e)) if e.contains("--domain")),
            "{:?}",
            m.params.error
        );
        let mut m = pattern_2_parameters();
        m.pattern = Pattern::VpcEndpoint;
        assert_eq!(m.fields(), [Field::Region, Field::Name]);
        assert!(start_settings(update(&mut m, code(KeyCode::Enter))).is_empty());
    }

    #[test]
    fn a_costly_choice_is_confirmed_before_it_is_taken_and_declined_goes_back() {
        let mut m = pattern_2_parameters();
        m.params.focus = Field::Setting("ca");
        update(&mut m, key(' '));
        assert_eq!(m.settings["ca"], plan::pattern2::CA_PRIVATE);
        // Leaving the field asks; `n` goes back to the choice before, on the same field.
        update(&mut m, code(KeyCode::Tab));
        assert!(m.params.confirming.is_some());
        update(&mut m, key('n'));
        assert_eq!(m.params.confirming, None);
        assert_eq!(m.settings["ca"], plan::pattern2::CA_LOCAL);
        assert_eq!(m.params.focus, Field::Setting("ca"));
        // Passing a costly choice asks nothing: only the one left on is confirmed.
        for _ in 0..3 {
            update(&mut m, code(KeyCode::Right));
        }
        assert_eq!(m.settings["ca"], plan::pattern2::CA_EXISTING);
        update(&mut m, code(KeyCode::Tab));
        assert_eq!(m.params.confirming, None);
        assert_eq!(m.params.focus, Field::Setting("ca_arn"));
        // Enter on a costly choice asks, and `y` starts the run with it.
        m.params.focus = Field::Setting("ca");
        update(&mut m, code(KeyCode::Left));
        update(&mut m, code(KeyCode::Left));
        assert_eq!(m.settings["ca"], plan::pattern2::CA_PRIVATE);
        assert_eq!(update(&mut m, code(KeyCode::Enter)), None);
        assert!(m.params.confirming.is_some());
        let settings = start_settings(update(&mut m, key('y')));
        assert_eq!(settings["ca"], plan::pattern2::CA_PRIVATE);
        // A costly choice given by flag or preset is not asked again.
        let mut m = pattern_2_parameters();
        m.settings
            .insert("ca".into(), plan::pattern2::CA_PRIVATE.into());
        m.params.focus = Field::Setting("ca");
        assert!(matches!(
            update(&mut m, code(KeyCode::Enter)),
            Some(Action::Start(_))
        ));
    }

    fn connection_question(requester: &str) -> Message {
        Message::Ask(Question::AcceptConnection {
            step: "accept-connection".into(),
            request: crate::engine::ConnectionRequest {
                service_id: "vpce-svc-0a1b2c3d4e5f60718".into(),
                endpoint_id: "vpce-0123456789abcdef0".into(),
                requester_account: requester.into(),
                expected_account: "222222222222".into(),
                vpc_id: "vpc-0fedcba9876543210".into(),
                account_id: "111111111111".into(),
            },
        })
    }

    #[test]
    fn the_connection_is_accepted_rejected_after_a_second_yes_or_left_for_later() {
        let t0 = Instant::now();
        let mut m = started(t0);
        update(&mut m, connection_question("222222222222"));
        assert_eq!(m.screen, Screen::Connection);
        assert!(!m.clock_shown(), "the clock stops while the user reads");
        assert_eq!(update(&mut m, key('y')), None, "no yes/no here");
        assert_eq!(update(&mut m, key('r')), None);
        assert!(m.rejecting);
        assert_eq!(
            update(&mut m, key('q')),
            None,
            "the confirmation takes the keys"
        );
        assert_eq!(m.overlay, None);
        assert_eq!(update(&mut m, key('n')), None);
        assert!(!m.rejecting);
        update(&mut m, key('r'));
        assert_eq!(
            update(&mut m, key('y')),
            Some(Action::Connection(ConnectionAnswer::Reject))
        );
        assert_eq!(m.screen, Screen::Deploy);
        assert!(m.question.is_none());

        update(&mut m, connection_question("333333333333"));
        assert_eq!(
            update(&mut m, code(KeyCode::Esc)),
            Some(Action::Connection(ConnectionAnswer::Later))
        );
        update(&mut m, connection_question("222222222222"));
        assert_eq!(
            update(&mut m, key('l')),
            Some(Action::Connection(ConnectionAnswer::Later))
        );
        // The time the question waited is not the step's.
        update(&mut m, Message::Tick(t0 + Duration::from_secs(10)));
        update(&mut m, connection_question("222222222222"));
        update(&mut m, Message::Tick(t0 + Duration::from_secs(70)));
        assert_eq!(
            update(&mut m, key('a')),
            Some(Action::Connection(ConnectionAnswer::Accept))
        );
        update(&mut m, Message::Tick(t0 + Duration::from_secs(75)));
        let row = m.step_row("consumer-vpc").expect("the step");
        assert_eq!(
            row.time(m.now, m.asked_since),
            Some(Duration::from_secs(15))
        );
    }

    #[test]
    fn a_run_left_waiting_ends_on_the_deployment_screen_with_what_to_do() {
        let mut m = started(Instant::now());
        update(&mut m, connection_question("222222222222"));
        update(&mut m, key('l'));
        update(
            &mut m,
            Message::Engine(Event::StepWaiting {
                step: "consumer-vpc".into(),
                message: "the connection of vpce-0123 waits for your answer".into(),
                next: "`xwizard resume vpce-demo` asks again".into(),
            }),
        );
        update(
            &mut m,
            Message::Engine(Event::RunFinished {
                deployment: "vpce-demo".into(),
                status: RunStatus::Waiting,
            }),
        );
        assert_eq!(m.screen, Screen::Deploy);
        assert!(m.finished_as(RunStatus::Waiting));
        assert!(m.failure.is_none(), "waiting is not a failure");
        assert_eq!(
            m.step_row("consumer-vpc").map(|s| s.status),
            Some(StepStatus::Waiting)
        );
        assert!(
            m.waiting
                .as_ref()
                .is_some_and(|w| w.next.contains("xwizard resume vpce-demo"))
        );
        assert!(!m.running());
    }
}
