//! The state of the full-screen interface: what is on screen and everything it is drawn from.
//! Time is an input (`now`, advanced by ticks), so the same model always draws the same frame.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::engine::{ChangeView, CheckView, KeptItem, Question, RunStatus};
use crate::plan::{Pattern, Role, Setting};
use crate::state::{Deployment, RootCause, StepStatus};

use super::theme::Theme;

/// How many lines of the event log are kept; older ones scroll away for good.
pub const LOG_CAPACITY: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    PatternChoice,
    Profiles,
    Parameters,
    /// A change set (or another yes/no question) waiting for the user.
    Review,
    /// A consumer's endpoint asks to connect to the producer's service: accept, reject or
    /// later.
    Connection,
    Deploy,
    Tests,
    Cleanup,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    QuitConfirm,
    /// Every resource of the stack followed, with full names, types and reasons.
    Resources,
    /// Every output of the run so far, in full.
    Outputs,
}

/// How the run on screen ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Run(RunStatus),
    /// It ended outside the event stream (a check before anything was made, a question left
    /// unanswered): the error screen says why.
    Stopped,
}

/// A check that is asking again, with each answer it had so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrying {
    pub check: String,
    /// (attempt, what it answered), oldest first.
    pub attempts: Vec<(u32, String)>,
}

/// The MFA code being typed, asked for a profile whose role needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeEntry {
    pub serial: String,
    pub profile: String,
    /// The digits so far: shown as dots, and gone once Enter hands them over.
    pub typed: String,
}

impl std::fmt::Debug for CodeEntry {
    // A model printed for a failing test must not print the code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeEntry")
            .field("serial", &self.serial)
            .field("profile", &self.profile)
            .field("typed", &format_args!("{} digits", self.typed.len()))
            .finish()
    }
}

/// One AWS profile as the profiles screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRow {
    pub name: String,
    /// "sso", "role+mfa", "role", "process", "keys" or "other".
    pub kind: String,
    pub region: Option<String>,
}

/// What STS said about the profile chosen for a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Unchecked,
    Checking,
    Verified { account_id: String, arn: String },
    Failed { message: String },
}

#[derive(Debug, Clone)]
pub struct ProfilesForm {
    pub profiles: Vec<ProfileRow>,
    pub cursor: usize,
    /// The role Enter assigns the profile under the cursor to.
    pub focus: Role,
    pub producer: Option<String>,
    pub consumer: Option<String>,
    pub producer_identity: Identity,
    pub consumer_identity: Identity,
    /// One account playing both roles (rehearsals).
    pub allow_same_account: bool,
}

impl ProfilesForm {
    pub fn chosen(&self, role: Role) -> Option<&str> {
        match role {
            Role::Producer => self.producer.as_deref(),
            Role::Consumer => self.consumer.as_deref(),
        }
    }

    pub fn identity(&self, role: Role) -> &Identity {
        match role {
            Role::Producer => &self.producer_identity,
            Role::Consumer => &self.consumer_identity,
        }
    }

    pub fn identity_mut(&mut self, role: Role) -> &mut Identity {
        match role {
            Role::Producer => &mut self.producer_identity,
            Role::Consumer => &mut self.consumer_identity,
        }
    }

    pub fn profile(&self, name: &str) -> Option<&ProfileRow> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The one account both profiles lead to, when they lead to the same.
    pub fn same_account(&self) -> Option<&str> {
        match (&self.producer_identity, &self.consumer_identity) {
            (
                Identity::Verified { account_id: a, .. },
                Identity::Verified { account_id: b, .. },
            ) if a == b => Some(a),
            _ => None,
        }
    }

    pub fn ready(&self) -> bool {
        let verified = |i: &Identity| matches!(i, Identity::Verified { .. });
        verified(&self.producer_identity)
            && verified(&self.consumer_identity)
            && (self.same_account().is_none() || self.allow_same_account)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Region,
    Name,
    /// One of the pattern's own settings, by key (`Setting::key`).
    Setting(&'static str),
}

#[derive(Debug, Clone)]
pub struct ParamsForm {
    pub region: String,
    pub name: String,
    pub focus: Field,
    pub error: Option<(Field, String)>,
    /// A choice field being cycled: its key and the choice it had before, which a declined
    /// cost confirmation goes back to.
    pub cycled_from: Option<(&'static str, String)>,
    /// A choice that costs money waits for its confirmation before it is taken.
    pub confirming: Option<CostConfirm>,
}

/// The cost confirmation of a choice: `y` takes it and goes on as the key that left the
/// field would have, `n` or Esc goes back to the choice it had before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostConfirm {
    pub key: &'static str,
    pub previous: String,
    pub then: Then,
}

/// Where the parameters screen goes once a costly choice is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    Next,
    Previous,
    Deploy,
}

/// A step that stopped to wait for the user, and how to carry on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub step: String,
    pub message: String,
    pub next: String,
}

#[derive(Debug, Clone)]
pub struct StepRow {
    pub id: String,
    pub title: String,
    pub role: Role,
    pub account_id: String,
    pub status: StepStatus,
    pub started: Option<Instant>,
    /// Set when the step ends; a running step's time is `now - started - waited`.
    pub took: Option<Duration>,
    /// Time its questions waited for the user (a change set being read): not AWS's time.
    pub waited: Duration,
}

impl StepRow {
    /// AWS's time so far: frozen while a question waits for the user.
    pub fn time(&self, now: Instant, asked_since: Option<Instant>) -> Option<Duration> {
        if let Some(took) = self.took {
            return Some(took);
        }
        let start = self.started?;
        let end = asked_since.unwrap_or(now);
        Some(
            end.saturating_duration_since(start)
                .saturating_sub(self.waited),
        )
    }
}

#[derive(Debug, Clone)]
pub struct ResourceRow {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
    pub first_seen: Instant,
    pub last_seen: Instant,
}

impl ResourceRow {
    /// Time since its first event; frozen once it reached a final state.
    pub fn elapsed(&self, now: Instant) -> Duration {
        let end = if crate::stack_status::Status(&self.status).in_progress() {
            now
        } else {
            self.last_seen
        };
        end.saturating_duration_since(self.first_seen)
    }
}

/// The stack the current step follows.
#[derive(Debug, Clone)]
pub struct StackView {
    pub step: String,
    pub name: String,
    /// The stack's own latest status (its `AWS::CloudFormation::Stack` events).
    pub status: Option<String>,
    pub resources: Vec<ResourceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub step: String,
    pub message: String,
    pub root_cause: Option<RootCause>,
    pub next: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Waiting,
    Deleting,
    Deleted,
    Failed,
}

#[derive(Debug, Clone)]
pub struct CleanupStack {
    /// The plan step whose stack this is.
    pub step: String,
    pub stack: String,
    pub role: Option<Role>,
    pub account_id: String,
    /// Stacks of a wave are deleted together, lowest wave first.
    pub wave: u8,
    pub state: Deletion,
}

#[derive(Debug, Clone, Default)]
pub struct CleanupView {
    pub stacks: Vec<CleanupStack>,
    pub leftovers: Vec<String>,
    /// What went besides the stacks (keys, DNS records, a Private CA).
    pub removed: Vec<String>,
    /// Left in place by design (an account-wide logging role), with why.
    pub kept: Vec<KeptItem>,
    /// What failed, with the resource that would not go when the events name one.
    pub failures: Vec<(String, Option<RootCause>)>,
    /// Nothing (else) of this deployment is left.
    pub clean: bool,
    /// The resources being deleted right now, per stack: (stack, logical id, status, since).
    pub in_progress: Vec<(String, String, String, Instant)>,
}

/// The deployment a run works on, from `RunStarted` or the saved record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub deployment: String,
    pub pattern: Pattern,
    pub region: String,
    pub producer_account: String,
    pub consumer_account: String,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub theme: Theme,
    pub now: Instant,
    pub screen: Screen,
    /// Where Esc from the review, tests or error screen goes back to.
    pub previous: Screen,
    pub overlay: Option<Overlay>,
    /// An MFA code asked for: typed into a box over whatever screen is up.
    pub code_entry: Option<CodeEntry>,
    /// The way out was Ctrl-C: the program ends as an interrupted one (exit 130).
    pub interrupted: bool,
    pub deployments: Vec<Deployment>,
    /// When `deployments` was read (Unix seconds).
    pub listed_at: u64,
    pub home_cursor: usize,
    pub pattern: Pattern,
    pub profiles: ProfilesForm,
    pub params: ParamsForm,
    /// The name offered on the parameters screen (the runner picks a fresh one).
    pub suggested_name: String,
    /// The pattern's own answers (`Pattern::settings`), by key: given by flags or a preset,
    /// or changed on screen. A setting not here takes its default.
    pub settings: BTreeMap<String, String>,
    /// The run's standing choices that flags or a preset gave (`accept_connection`,
    /// `key_store`), recorded with the settings of a pattern that has any.
    pub standing: BTreeMap<String, String>,
    pub run: Option<RunInfo>,
    pub steps: Vec<StepRow>,
    /// The steps running now, whose credentials they act with and in which account: a
    /// cleanup deletes a wave's stacks of both accounts at once.
    pub acting: Vec<(String, Role, String)>,
    /// When the pending question was put: step timers stop while the user reads.
    pub asked_since: Option<Instant>,
    pub stack: Option<StackView>,
    pub change_sets: BTreeMap<String, Vec<ChangeView>>,
    pub log: VecDeque<String>,
    /// Screen rows scrolled back from the newest, on the deployment screen; 0 follows.
    pub log_scroll: usize,
    /// Rows scrolled down in the resources or outputs view.
    pub detail_scroll: usize,
    pub outputs: Vec<(String, String, String)>,
    pub checks: Vec<CheckView>,
    /// The answers each check had before its last, in `checks` order.
    pub check_attempts: Vec<Vec<(u32, String)>>,
    /// The check asking again right now.
    pub retrying: Option<Retrying>,
    pub question: Option<Question>,
    pub review_scroll: usize,
    /// `r` on the connection screen asks again before rejecting: a rejected endpoint cannot
    /// ask again.
    pub rejecting: bool,
    pub failure: Option<Failure>,
    /// A step waits for the user's answer (a connection left for later, or rejected).
    pub waiting: Option<Waiting>,
    pub cleanup: Option<CleanupView>,
    /// How the run ended, once it has.
    pub finished: Option<Finished>,
}

impl Model {
    pub fn new(theme: Theme, now: Instant) -> Self {
        Self {
            theme,
            now,
            screen: Screen::Home,
            previous: Screen::Home,
            overlay: None,
            code_entry: None,
            interrupted: false,
            deployments: Vec::new(),
            listed_at: 0,
            home_cursor: 0,
            pattern: Pattern::VpcEndpoint,
            profiles: ProfilesForm {
                profiles: Vec::new(),
                cursor: 0,
                focus: Role::Producer,
                producer: None,
                consumer: None,
                producer_identity: Identity::Unchecked,
                consumer_identity: Identity::Unchecked,
                allow_same_account: false,
            },
            params: ParamsForm {
                region: String::new(),
                name: String::new(),
                focus: Field::Region,
                error: None,
                cycled_from: None,
                confirming: None,
            },
            suggested_name: format!("{}-demo", Pattern::VpcEndpoint.short()),
            settings: BTreeMap::new(),
            standing: BTreeMap::new(),
            run: None,
            steps: Vec::new(),
            acting: Vec::new(),
            asked_since: None,
            stack: None,
            change_sets: BTreeMap::new(),
            log: VecDeque::new(),
            log_scroll: 0,
            detail_scroll: 0,
            outputs: Vec::new(),
            checks: Vec::new(),
            check_attempts: Vec::new(),
            retrying: None,
            question: None,
            review_scroll: 0,
            rejecting: false,
            failure: None,
            waiting: None,
            cleanup: None,
            finished: None,
        }
    }

    /// A model for a run of a saved deployment (resume, test, destroy): steps already done
    /// show as done, since the engine skips them silently.
    pub fn for_deployment(theme: Theme, now: Instant, d: &Deployment) -> Self {
        let mut model = Self::new(theme, now);
        model.run = Some(RunInfo {
            deployment: d.name.clone(),
            pattern: d.pattern,
            region: d.region.clone(),
            producer_account: d.producer.account_id.clone(),
            consumer_account: d.consumer.account_id.clone(),
        });
        model.pattern = d.pattern;
        model.seed_steps();
        for row in &mut model.steps {
            let saved = d.step(&row.id);
            row.status = saved.status;
            for (k, v) in saved.outputs {
                model.outputs.push((row.id.clone(), k, v));
            }
        }
        model.screen = Screen::Deploy;
        model
    }

    /// The plan's steps, all pending, with the accounts they act in.
    pub(crate) fn seed_steps(&mut self) {
        let account = |run: &Option<RunInfo>, role: Role| {
            run.as_ref().map_or(String::new(), |r| match role {
                Role::Producer => r.producer_account.clone(),
                Role::Consumer => r.consumer_account.clone(),
            })
        };
        self.steps = self
            .pattern
            .steps()
            .into_iter()
            .map(|s| StepRow {
                id: s.id.to_string(),
                title: s.title.to_string(),
                role: s.role,
                account_id: account(&self.run, s.role),
                status: StepStatus::Pending,
                started: None,
                took: None,
                waited: Duration::ZERO,
            })
            .collect();
    }

    pub fn step_row(&self, id: &str) -> Option<&StepRow> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn deployment_name(&self) -> Option<&str> {
        self.run.as_ref().map(|r| r.deployment.as_str())
    }

    pub fn account_of(&self, role: Role) -> Option<&str> {
        self.run.as_ref().map(|r| match role {
            Role::Producer => r.producer_account.as_str(),
            Role::Consumer => r.consumer_account.as_str(),
        })
    }

    /// A run is under way: quitting must say how to resume.
    pub fn running(&self) -> bool {
        self.run.is_some() && self.finished.is_none()
    }

    /// Whether a timer on screen moves with the clock: a step or a deletion under way, with
    /// no question stopping the clock.
    pub fn clock_shown(&self) -> bool {
        if self.asked_since.is_some() {
            return false;
        }
        let stepping = matches!(self.screen, Screen::Deploy)
            && self.steps.iter().any(|s| s.status == StepStatus::Running);
        let deleting = matches!(self.screen, Screen::Cleanup)
            && self
                .cleanup
                .as_ref()
                .is_some_and(|c| c.stacks.iter().any(|s| s.state == Deletion::Deleting));
        stepping || deleting
    }

    /// The run ended with `status`.
    pub fn finished_as(&self, status: RunStatus) -> bool {
        self.finished == Some(Finished::Run(status))
    }

    pub fn push_log(&mut self, line: String) {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    pub fn selected_deployment(&self) -> Option<&Deployment> {
        self.deployments.get(self.home_cursor)
    }

    /// The pattern's settings asked now, in order, each with the value it has: the one given
    /// or changed on screen, else its default (the deployment's name for a subdomain). A
    /// setting asked only after another's answer (`Setting::when`) follows that answer.
    pub fn settings_shown(&self) -> Vec<(&'static Setting, String)> {
        let mut so_far = BTreeMap::new();
        let mut shown = Vec::new();
        for setting in self.pattern.settings() {
            if !setting.applies(&so_far) {
                continue;
            }
            let value = self.setting_value(setting);
            so_far.insert(setting.key.to_string(), value.clone());
            shown.push((setting, value));
        }
        shown
    }

    /// A setting's value on screen: given or changed, else its default, else empty.
    pub fn setting_value(&self, setting: &Setting) -> String {
        match self.settings.get(setting.key) {
            Some(value) => value.clone(),
            None => setting
                .default_value(self.params.name.trim())
                .unwrap_or_default(),
        }
    }

    /// The parameters screen's fields in order: region, name, then the settings asked now.
    pub fn fields(&self) -> Vec<Field> {
        let mut fields = vec![Field::Region, Field::Name];
        fields.extend(
            self.settings_shown()
                .into_iter()
                .map(|(s, _)| Field::Setting(s.key)),
        );
        fields
    }
}

/// "1m05s", "42s", "1h02m": short enough for a status column.
pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// `text` cut into rows of at most `width` characters, at spaces where it can be; rows after
/// the first are indented by `indent` (a long event reason reads as one block).
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(indent + 8);
    let mut rows = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    let mut room = width;
    while rest.len() > room {
        // The last space that leaves something on the row, else a hard cut.
        let cut = rest[..=room]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&i| i > 0)
            .unwrap_or(room);
        let row: String = rest[..cut].iter().collect();
        rows.push(row.trim_end().to_string());
        rest = rest[cut..]
            .iter()
            .skip_while(|c| **c == ' ')
            .copied()
            .collect();
        room = width - indent;
    }
    rows.push(rest.into_iter().collect());
    for row in rows.iter_mut().skip(1) {
        *row = format!("{}{row}", " ".repeat(indent));
    }
    rows
}

/// Cuts `text` to `width` characters, the last one an ellipsis when anything was cut.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Cuts the middle of `text` to fit `width`, keeping both ends: logical ids and URLs often
/// differ only at their ends (`ApiKeyAuthorizerRole`, `ApiKeyAuthorizerFunction`).
pub fn ellipsize_middle(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len <= width {
        return text.to_string();
    }
    if width < 3 {
        return ellipsize(text, width);
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(len - tail));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_short() {
        assert_eq!(fmt_duration(Duration::from_secs(42)), "42s");
        assert_eq!(fmt_duration(Duration::from_secs(65)), "1m05s");
        assert_eq!(fmt_duration(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn long_text_gets_an_ellipsis() {
        assert_eq!(ellipsize("ConsumerVpcEndpoint", 8), "Consume…");
        assert_eq!(ellipsize("Vpc", 8), "Vpc");
        assert_eq!(
            ellipsize_middle("ApiKeyAuthorizerFunction", 11),
            "ApiKe…ction"
        );
        assert_eq!(ellipsize_middle("ApiKeyAuthorizerRole", 9), "ApiK…Role");
    }

    #[test]
    fn wrapping_keeps_every_character_and_fits_the_width() {
        let text = "Resource handler returned message: The role ARN does not have required \
                    permissions set to API Gateway";
        let rows = wrap(text, 30, 2);
        assert!(rows.iter().all(|r| r.chars().count() <= 30), "{rows:?}");
        let joined: String = rows.iter().map(|r| r.trim()).collect::<Vec<_>>().join(" ");
        assert_eq!(joined, text);
        assert_eq!(wrap("short", 30, 2), vec!["short"]);
        // A word longer than the row is cut, not lost.
        let long = "x".repeat(70);
        assert_eq!(wrap(&long, 30, 0).concat(), long);
    }

    #[test]
    fn the_log_is_a_ring() {
        let mut m = Model::new(Theme::plain(), Instant::now());
        for i in 0..LOG_CAPACITY + 3 {
            m.push_log(i.to_string());
        }
        assert_eq!(m.log.len(), LOG_CAPACITY);
        assert_eq!(m.log.front().map(String::as_str), Some("3"));
    }
}
