//! Runs a plan: each step with its account's session, every status change saved at once so a
//! run can be killed anywhere and resumed; reconciles saved state with what AWS really has.
//! It reports `Event`s and asks `Question`s; it draws nothing.

pub mod access_changes;
mod certificates;
pub mod cleanup;
pub mod events;
mod mtls_test;
mod policy;
mod poll;
pub mod root_cause;
mod sdk_steps;
mod service_steps;
mod stack_step;
mod test_step;

use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use events::{
    AlwaysYes, Asker, ChangeView, CheckView, ConnectionAnswer, ConnectionRequest, Event, KeptItem,
    Phase, Question, Reporter, RunStatus, StackToDelete,
};
pub use poll::PollPolicy;

use crate::aws::Session;
use crate::aws::stacks::Stacks;
use crate::check::CheckOptions;
use crate::plan::{self, Role, Source, Step, StepKind};
use crate::state::{Deployment, RootCause, StepFailure, StepStatus, Store, now};

/// The two accounts' sessions of a deployment.
pub struct Sessions {
    pub producer: Session,
    pub consumer: Session,
}

impl Sessions {
    pub fn of(&self, role: Role) -> &Session {
        match role {
            Role::Producer => &self.producer,
            Role::Consumer => &self.consumer,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub poll: PollPolicy,
    pub check: CheckOptions,
    /// Where private keys go when the user agreed to files (`--key-files`): None keeps them
    /// in the OS keyring only.
    pub key_files: Option<std::path::PathBuf>,
}

/// Why a step stopped; becomes the saved `StepFailure`.
#[derive(Debug)]
pub struct StepError {
    pub message: String,
    /// Boxed: a step's error travels through every `?` of the step.
    pub root_cause: Option<Box<RootCause>>,
    pub next: String,
    /// The person stopped the run (Ctrl-C at a prompt): not a failure of the step.
    pub interrupted: bool,
    /// The step waits for the person's answer (a connection left for later): not a failure.
    pub waiting: bool,
}

impl StepError {
    fn new(message: impl Into<String>, next: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            root_cause: None,
            next: next.into(),
            interrupted: false,
            waiting: false,
        }
    }

    fn waiting(message: impl Into<String>, next: impl Into<String>) -> Self {
        Self {
            waiting: true,
            ..Self::new(message, next)
        }
    }
}

/// The person interrupted the run where it asked something (Ctrl-C at a prompt): the run
/// stops as it would on SIGINT, kept and resumable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

impl From<anyhow::Error> for StepError {
    fn from(err: anyhow::Error) -> Self {
        let next = if crate::aws::error::needs_sign_in(&err) {
            // Long runs outlive short sessions: say which profile, and how to renew it.
            sign_in_again(
                "<profile>",
                "`xwizard resume <name>` carries on from this step",
            )
        } else if crate::aws::error::unreachable(&err) {
            format!(
                "{UNREACHABLE_PLACEHOLDER} could not be reached; once it answers, `xwizard resume \
                 <name>` carries on from this step"
            )
        } else {
            "fix the cause above, then `xwizard resume <name>` carries on from this step".into()
        };
        Self {
            interrupted: err.is::<Interrupted>(),
            ..Self::new(format!("{err:#}"), next)
        }
    }
}

impl From<crate::keys::KeyStoreError> for StepError {
    fn from(err: crate::keys::KeyStoreError) -> Self {
        anyhow::Error::new(err).into()
    }
}

impl From<crate::ca::CaError> for StepError {
    fn from(err: crate::ca::CaError) -> Self {
        anyhow::Error::new(err).into()
    }
}

/// Stands in a step's next action for what could not be reached: AWS, or the sandbox.
const UNREACHABLE_PLACEHOLDER: &str = "<endpoint>";

/// Stands in a step's next action for how to renew the profile's credentials: it depends on
/// the kind of profile, which the step's session knows.
const SIGN_IN_PLACEHOLDER: &str = "<sign-in>";

/// The next action when `profile`'s credentials have expired: sign in again, then `then`.
fn sign_in_again(profile: &str, then: &str) -> String {
    format!(
        "the credentials of profile {profile} have expired or are not valid: \
         {SIGN_IN_PLACEHOLDER}, then {then}"
    )
}

/// How to renew the credentials of a profile of this kind.
fn sign_in_advice(kind: &str) -> &'static str {
    if kind == crate::aws::session::ROLE_MFA {
        // Its role session was bought with a one-time code; the next run asks for a new one.
        "the role session its MFA code bought has ended, so have a fresh code ready"
    } else {
        "sign in again (for an SSO profile: `aws sso login --profile <profile>`)"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
    /// Stopped from outside (Ctrl-C): nothing undone, everything so far saved.
    Interrupted,
    /// A step waits for the user's answer; `xwizard resume` asks again.
    Waiting,
}

pub struct Engine<'a> {
    /// The deployment's record: steps running side by side update it, each briefly, and it
    /// is saved after every change.
    record: std::sync::Mutex<Deployment>,
    store: &'a Store,
    sessions: &'a Sessions,
    reporter: &'a dyn Reporter,
    asker: &'a dyn Asker,
    opts: Options,
    /// Milliseconds spent waiting for the user's answers: a step's time is AWS's, not the
    /// time its change set was read for.
    answering_ms: AtomicU64,
    /// One question at a time: steps running side by side queue theirs.
    asking: tokio::sync::Mutex<()>,
}

impl<'a> Engine<'a> {
    pub fn new(
        deployment: Deployment,
        store: &'a Store,
        sessions: &'a Sessions,
        reporter: &'a dyn Reporter,
        asker: &'a dyn Asker,
        opts: Options,
    ) -> Self {
        Self {
            record: std::sync::Mutex::new(deployment),
            store,
            sessions,
            reporter,
            asker,
            opts,
            answering_ms: AtomicU64::new(0),
            asking: tokio::sync::Mutex::new(()),
        }
    }

    /// The record, locked. Only `deployment` and `change` take the lock, each for no longer
    /// than they run: no caller can hold it across an await or take it twice.
    fn record(&self) -> std::sync::MutexGuard<'_, Deployment> {
        // A panic while the lock was held leaves the record as it was: still the best there is.
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the record as it stands now.
    pub fn deployment(&self) -> Deployment {
        self.record().clone()
    }

    /// Changes the record and saves it, under one lock: two steps' changes never interleave
    /// in the file.
    fn change(&self, f: impl FnOnce(&mut Deployment)) -> Result<()> {
        let mut record = self.record();
        f(&mut record);
        record.updated_at = now();
        self.store.save(&record)
    }

    fn set_status(&self, step: &str, status: StepStatus) -> Result<()> {
        self.change(|d| {
            let s = d.step_mut(step);
            s.status = status;
            s.updated_at = now();
            if status != StepStatus::Failed {
                s.failure = None;
            }
        })
    }

    /// Asks the user; the time the question waits is left out of the step's time.
    async fn ask(&self, question: &Question) -> Result<bool> {
        let _turn = self.asking.lock().await;
        let started = Instant::now();
        let answer = self.asker.confirm(question).await;
        let waited = started.elapsed().as_millis() as u64;
        self.answering_ms.fetch_add(waited, Ordering::Relaxed);
        answer
    }

    /// Asks about a pending connection; like `ask`, its wait is not the step's time.
    async fn ask_connection(&self, question: &Question) -> Result<ConnectionAnswer> {
        let _turn = self.asking.lock().await;
        let started = Instant::now();
        let answer = self.asker.connection(question).await;
        let waited = started.elapsed().as_millis() as u64;
        self.answering_ms.fetch_add(waited, Ordering::Relaxed);
        answer
    }

    /// Time since `started`, less the time spent waiting for answers since `answered_before`
    /// (`answering()` read when the clock started).
    fn aws_time(&self, started: Instant, answered_before: u64) -> Duration {
        let answering = self.answering().saturating_sub(answered_before);
        started
            .elapsed()
            .saturating_sub(Duration::from_millis(answering))
    }

    fn answering(&self) -> u64 {
        self.answering_ms.load(Ordering::Relaxed)
    }

    fn emit(&self, event: Event) {
        self.reporter.report(&event);
    }

    fn info(&self, step: &str, message: impl Into<String>) {
        self.emit(Event::Info {
            step: step.to_string(),
            message: message.into(),
        });
    }

    /// The value of a parameter source, from the deployment's record.
    fn resolve(&self, source: &Source) -> Result<String> {
        match source {
            Source::DeploymentName => Ok(self.deployment().name.clone()),
            Source::AccountId(role) => Ok(self.deployment().account(*role).account_id.clone()),
            Source::Output { step, key } => match self.deployment().step(step).outputs.get(*key) {
                Some(value) => Ok(value.clone()),
                None => bail!("step '{step}' has no output {key} yet; it must complete first"),
            },
            Source::Setting(key) => match self.deployment().settings.get(*key) {
                Some(value) => Ok(value.clone()),
                None => bail!(
                    "the deployment has no answer for {key}; `xwizard forget` it and start \
                     again with --{}",
                    key.replace('_', "-")
                ),
            },
            Source::ApiGatewayLoggingRole
            | Source::ApiGatewayLoggingRoleToSet
            | Source::HostedZoneOf(_)
            | Source::ServiceZone { .. } => {
                bail!("{source:?} is looked up only for a stack's parameters")
            }
        }
    }

    /// A value looked up in AWS, in the step's account, for a stack's parameter.
    async fn look_up(&self, step: &Step, source: &Source) -> Result<String> {
        let session = self.sessions.of(step.role);
        match source {
            Source::HostedZoneOf(setting) => {
                let domain = self.resolve(&Source::Setting(setting))?;
                crate::aws::dns::public_zone_id(session, &domain).await
            }
            Source::ServiceZone {
                step: from,
                key,
                index,
            } => {
                let service = self.resolve(&Source::Output { step: from, key })?;
                let zones = crate::aws::endpoint_services::EndpointServices::new(session)
                    .offered_zones(&service)
                    .await?;
                Ok(zones.get(*index).cloned().unwrap_or_default())
            }
            other => self.resolve(other),
        }
    }

    /// Says that the run was stopped from outside between two of its awaits (Ctrl-C). Nothing
    /// is undone: AWS carries on with any stack operation in progress, and every change of
    /// state so far is saved, so a resume picks up from here.
    pub fn interrupted(&self) {
        let running = self
            .deployment()
            .steps
            .iter()
            .find(|(_, s)| s.status == StepStatus::Running)
            .map(|(id, _)| id.clone());
        if let Some(step) = &running {
            self.info(
                step,
                "interrupted here: what AWS was doing for this step carries on there",
            );
        }
        self.emit(Event::RunFinished {
            deployment: self.deployment().name.clone(),
            status: RunStatus::Interrupted,
        });
    }

    /// Runs every step not done yet, each as soon as the steps it needs are done, so steps
    /// that need nothing of each other run side by side. After a failure no step starts; the
    /// ones under way finish first (a stack operation is never left unfollowed).
    pub async fn run(&mut self) -> Result<Outcome> {
        let d = self.deployment();
        self.emit(Event::RunStarted {
            deployment: d.name.clone(),
            pattern: d.pattern,
            region: d.region.clone(),
            producer_account: d.producer.account_id.clone(),
            consumer_account: d.consumer.account_id.clone(),
        });
        let plan = d.pattern.steps();
        let mut finished: Vec<&'static str> = Vec::new();
        let mut started: Vec<&'static str> = Vec::new();
        let mut failed = false;
        let mut waiting = false;
        let mut under_way = futures_util::stream::FuturesUnordered::new();
        loop {
            if !failed && !waiting {
                for step in &plan {
                    let ready = !started.contains(&step.id)
                        && step.needs(&plan).iter().all(|n| finished.contains(n));
                    if ready {
                        started.push(step.id);
                        let this = &*self;
                        under_way.push(async move { (step.id, this.bring_up(step).await) });
                    }
                }
            }
            let Some((id, outcome)) = futures_util::StreamExt::next(&mut under_way).await else {
                break;
            };
            match outcome {
                Ok(StepEnd::Done) => finished.push(id),
                Ok(StepEnd::Failed) => failed = true,
                // Nothing more starts; a step that fails meanwhile still makes it a failure.
                Ok(StepEnd::Waiting) => waiting = true,
                // An interruption or an error of the record: nothing more starts, and what is
                // under way is dropped as a kill would leave it (resume reconciles).
                Err(e) => return Err(e),
            }
        }
        let (status, outcome) = if failed {
            (RunStatus::Failed, Outcome::Failed)
        } else if waiting {
            (RunStatus::Waiting, Outcome::Waiting)
        } else {
            (RunStatus::Deployed, Outcome::Completed)
        };
        self.emit(Event::RunFinished {
            deployment: d.name.clone(),
            status,
        });
        Ok(outcome)
    }

    /// A step of a run: skipped when done, still there and fed the same inputs; run otherwise.
    async fn bring_up(&self, step: &Step) -> Result<StepEnd> {
        let done = self.deployment().step(step.id).status == StepStatus::Done;
        if done && self.still_there(step).await? && self.inputs_unchanged(step) {
            return Ok(StepEnd::Done);
        }
        self.run_step(step, Record::Yes).await
    }

    /// Runs only the test step again (`xwizard test`).
    pub async fn test_again(&mut self) -> Result<Outcome> {
        let steps = self.deployment().pattern.steps();
        let Some(step) = steps.iter().find(|s| s.is_test()) else {
            bail!("this pattern has no test step");
        };
        let d = self.deployment();
        for earlier in steps.iter().take_while(|s| s.id != step.id) {
            if d.step(earlier.id).status != StepStatus::Done {
                bail!(
                    "step '{}' of {} is not done yet; finish the deployment with `xwizard resume {}` first",
                    earlier.id,
                    d.name,
                    d.name
                );
            }
        }
        // A test run reports; it does not change what the record says of the deployment (a
        // tunnel that is down is not a broken deployment).
        Ok(match self.run_step(step, Record::No).await? {
            StepEnd::Done => Outcome::Completed,
            StepEnd::Failed => Outcome::Failed,
            StepEnd::Waiting => Outcome::Waiting,
        })
    }

    /// The step's inputs as they resolve now; looked-up ones (from AWS) are left out.
    fn current_inputs(&self, step: &Step) -> BTreeMap<String, String> {
        step.inputs()
            .into_iter()
            .filter(|(_, source)| !source.is_lookup())
            .filter_map(|(key, source)| Some((key.to_string(), self.resolve(source).ok()?)))
            .collect()
    }

    /// Whether a done step would run with the inputs it ran with. An earlier step made again
    /// (its stack deleted behind our back, say) gives new ids: the steps using them run again.
    fn inputs_unchanged(&self, step: &Step) -> bool {
        let ran_with = self.deployment().step(step.id).inputs;
        let changed: Vec<String> = self
            .current_inputs(step)
            .into_iter()
            .filter(|(key, now)| ran_with.get(key).is_some_and(|then| then != now))
            .map(|(key, now)| format!("{key} is now {now} (was {})", ran_with[&key]))
            .collect();
        if changed.is_empty() {
            return true;
        }
        self.info(
            step.id,
            format!("{} since it ran: running it again", changed.join("; ")),
        );
        false
    }

    /// A done stack step whose stack was deleted behind our back is run again.
    async fn still_there(&self, step: &Step) -> Result<bool> {
        let Some(spec) = step.stack() else {
            return Ok(true);
        };
        let stacks = Stacks::new(self.sessions.of(step.role));
        let name = plan::stack_name(&self.deployment().name, spec);
        match stacks.describe(&name).await? {
            Some(info) if crate::stack_status::Status(&info.status).stands() => Ok(true),
            other => {
                let what = other.map_or("no longer exists".to_string(), |i| {
                    format!("is now {}", i.status)
                });
                self.info(
                    step.id,
                    format!("stack {name} {what}: running this step again"),
                );
                Ok(false)
            }
        }
    }

    /// Runs one step and records its outcome.
    async fn run_step(&self, step: &Step, record: Record) -> Result<StepEnd> {
        let started = Instant::now();
        let answered_before = self.answering();
        if record == Record::Yes {
            self.set_status(step.id, StepStatus::Running)?;
        }
        let d = self.deployment();
        self.emit(Event::StepStarted {
            step: step.id.to_string(),
            title: step.title.to_string(),
            role: step.role,
            account_id: d.account(step.role).account_id.clone(),
            phase: Phase::Deploy,
            stack: step.stack().map(|spec| plan::stack_name(&d.name, spec)),
            wave: None,
        });
        let result = match &step.kind {
            StepKind::Stack(spec) => self.run_stack_retrying(step, spec).await,
            StepKind::RegisterEndpointTargets {
                endpoint_id,
                target_group_arn,
            } => self
                .register_targets(step, endpoint_id, target_group_arn)
                .await
                .map(|()| 0),
            StepKind::ScopeEndpointPolicy {
                endpoint_id,
                api_execute_arn,
            } => self
                .scope_endpoint_policy(step, endpoint_id, api_execute_arn)
                .await
                .map(|()| 0),
            StepKind::TestCall {
                api_url,
                api_key_secret_arn,
                function_name,
                probe_endpoint_id,
                probe_endpoint_dns_name,
            } => self
                .run_tests(
                    step,
                    api_url,
                    api_key_secret_arn,
                    function_name,
                    (probe_endpoint_id, probe_endpoint_dns_name),
                )
                .await
                .map(|()| 0),
            StepKind::CertificateAuthority { choice } => {
                self.certificate_authority(step, choice).await.map(|()| 0)
            }
            StepKind::UploadTrustBundle {
                bucket,
                ca_certificate,
            } => self
                .upload_trust_bundle(step, bucket, ca_certificate)
                .await
                .map(|()| 0),
            StepKind::VerifyPrivateDns { service_id } => {
                self.verify_private_dns(step, service_id).await.map(|()| 0)
            }
            StepKind::AcceptConnection {
                service_id,
                endpoint_id,
            } => self
                .accept_connection(step, service_id, endpoint_id)
                .await
                .map(|()| 0),
            StepKind::MtlsTest {
                instance_id,
                host,
                api_key_secret_arn,
                ca_kind,
                checks,
            } => self
                .mtls_test(
                    step,
                    (instance_id, host, api_key_secret_arn, ca_kind),
                    checks,
                )
                .await
                .map(|()| 0),
        };
        match result {
            Ok(api_calls) => {
                if record == Record::Yes {
                    let inputs = self.current_inputs(step);
                    self.change(|d| d.step_mut(step.id).inputs = inputs)?;
                    self.set_status(step.id, StepStatus::Done)?;
                }
                self.emit(Event::StepDone {
                    step: step.id.to_string(),
                    phase: Phase::Deploy,
                    seconds: self.aws_time(started, answered_before).as_secs_f64(),
                    api_calls,
                });
                Ok(StepEnd::Done)
            }
            Err(err) if err.interrupted => {
                // Left as a kill would leave it: running, for `resume` to reconcile.
                Err(anyhow::Error::new(Interrupted))
            }
            Err(err) if err.waiting => {
                let name = self.deployment().name;
                let next = err.next.replace("<name>", &name);
                if record == Record::Yes {
                    self.change(|d| {
                        let s = d.step_mut(step.id);
                        s.status = StepStatus::Waiting;
                        s.updated_at = now();
                        s.failure = Some(StepFailure {
                            message: err.message.clone(),
                            root_cause: None,
                            next: next.clone(),
                        });
                    })?;
                }
                self.emit(Event::StepWaiting {
                    step: step.id.to_string(),
                    message: err.message,
                    next,
                });
                Ok(StepEnd::Waiting)
            }
            Err(err) => {
                let d = self.deployment();
                let endpoint = if d.profile_files.is_some() {
                    "the sandbox's emulator (stopped or killed? `xwizard sandbox status` says; \
                     a sandbox that was stopped has forgotten this deployment, and `xwizard \
                     forget <name>` removes its record)"
                } else {
                    "AWS (check the network, a proxy or a VPN)"
                };
                let next = err
                    .next
                    .replace(UNREACHABLE_PLACEHOLDER, endpoint)
                    .replace(
                        SIGN_IN_PLACEHOLDER,
                        sign_in_advice(self.sessions.of(step.role).kind),
                    )
                    .replace("<name>", &d.name)
                    .replace("<profile>", &d.account(step.role).profile);
                if record == Record::Yes {
                    self.change(|d| {
                        let s = d.step_mut(step.id);
                        s.status = StepStatus::Failed;
                        s.updated_at = now();
                        s.failure = Some(StepFailure {
                            message: err.message.clone(),
                            root_cause: err.root_cause.as_deref().cloned(),
                            next: next.clone(),
                        });
                    })?;
                }
                self.emit(Event::StepFailed {
                    step: step.id.to_string(),
                    phase: Phase::Deploy,
                    message: err.message,
                    root_cause: err.root_cause.map(|c| *c),
                    next,
                });
                Ok(StepEnd::Failed)
            }
        }
    }
}

/// How a step of a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepEnd {
    Done,
    Failed,
    /// It waits for the user's answer.
    Waiting,
}

/// Whether a step's outcome is saved in the deployment's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    Yes,
    No,
}
