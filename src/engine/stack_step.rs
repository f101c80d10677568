//! A stack step: change set, review, execute, follow the events, take the outputs.

use crate::stack_status::{DELETE_COMPLETE, REVIEW_IN_PROGRESS, Status};
use anyhow::Result;
use std::collections::HashSet;
use std::time::Duration;

use super::access_changes;
use super::events::{ChangeView, Event, Question};
use super::root_cause::root_cause;
use super::{Engine, StepError};
use crate::aws::api_logging::{self, LoggingRole};
use crate::aws::apis;
use crate::aws::error::{needs_sign_in, throttled, unreachable};
use crate::aws::stacks::{Change, ChangeSetState, StackEvent, StackInfo, Stacks};
use crate::plan::{self, DEPLOYMENT_TAG, Source, StackSpec, Step};

/// Types whose changes widen or narrow who may do what: called out in every review.
pub fn touches_access(resource_type: &str) -> bool {
    resource_type.starts_with("AWS::IAM::")
        || resource_type.starts_with("AWS::EC2::SecurityGroup")
        || resource_type.starts_with("AWS::KMS::")
        || matches!(
            resource_type,
            "AWS::Lambda::Permission"
                | "AWS::SecretsManager::ResourcePolicy"
                | "AWS::S3::BucketPolicy"
                | "AWS::ApiGateway::RestApi"
                | "AWS::EC2::VPCEndpoint"
                | "AWS::EC2::VPCEndpointServicePermissions"
        )
}

pub fn change_views(changes: &[Change]) -> Vec<ChangeView> {
    changes
        .iter()
        .map(|c| ChangeView {
            action: c.action.clone(),
            logical_id: c.logical_id.clone(),
            resource_type: c.resource_type.clone(),
            replacement: c.replacement.clone(),
            access: touches_access(&c.resource_type),
            replaced_by: access_changes::replacement_causes(&c.details),
            details: if touches_access(&c.resource_type) {
                access_changes::access_rows(
                    &c.resource_type,
                    c.before_context.as_deref(),
                    c.after_context.as_deref(),
                )
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// The stack-level event that ends an operation (e.g. CREATE_COMPLETE, ROLLBACK_COMPLETE).
fn is_final_stack_event(e: &StackEvent, stack_id: &str) -> bool {
    e.resource_type == "AWS::CloudFormation::Stack"
        && e.physical_id == stack_id
        && !Status(&e.status).in_progress()
}

impl Engine<'_> {
    /// The two logging-role parameters: (the role API Gateway already logs with, left as it
    /// is; the role made here for the stack to set). One of them is empty. Says which, and why.
    ///
    /// Where the account has no working role, the role is made here, before the stack: IAM
    /// takes a while to make a new role usable by API Gateway, and a stack that made it and
    /// set it at once would fail now and then ("does not have required permissions").
    async fn api_logging_role(&self, step: &Step) -> Result<(String, String), StepError> {
        let account = self.deployment().account(step.role).account_id.clone();
        let region = self.deployment().region.clone();
        let message = match api_logging::current(self.sessions.of(step.role)).await? {
            LoggingRole::Working { arn, unchecked } => {
                let note = unchecked
                    .map(|why| format!(" (assumed to work: {why})"))
                    .unwrap_or_default();
                let message = format!(
                    "API Gateway in {account} ({region}) already logs through {arn}{note}: \
                     leaving that account-wide setting as it is"
                );
                self.info(step.id, message);
                return Ok((arn, String::new()));
            }
            LoggingRole::Unset => {
                format!("API Gateway in {account} ({region}) has no CloudWatch logging role")
            }
            LoggingRole::Dangling { arn } => format!(
                "API Gateway in {account} ({region}) logs through {arn}, which no longer exists"
            ),
        };
        let name = format!("xw-{}-apigw-cloudwatch", self.deployment().name);
        let made = api_logging::ensure_role(self.sessions.of(step.role), &name).await?;
        self.info(
            step.id,
            format!(
                "{message}: made the role {made} for it, which this stack sets; cleanup keeps \
                 it, as every REST API there then logs through it"
            ),
        );
        Ok((String::new(), made))
    }

    /// A stack step, made again when it failed only because a new logging role had not yet
    /// reached API Gateway (IAM propagates a new role within seconds to a minute): the failed
    /// stack is deleted (after asking, as any failed stack is) and the role, older now, set
    /// again. At most `LOGGING_ROLE_ATTEMPTS` times, each after a longer pause, saying why.
    pub(super) async fn run_stack_retrying(
        &self,
        step: &Step,
        spec: &StackSpec,
    ) -> Result<u32, StepError> {
        let mut attempt = 1;
        loop {
            match self.run_stack(step, spec).await {
                Err(e) if attempt < LOGGING_ROLE_ATTEMPTS && logging_role_not_ready(&e) => {
                    let pause = self.opts.poll.max * 3 * attempt;
                    self.info(
                        step.id,
                        format!(
                            "API Gateway refused the new logging role: IAM had not yet made it \
                             usable (AWS takes seconds to a minute). Trying the stack again in \
                             {}s (attempt {} of {LOGGING_ROLE_ATTEMPTS})",
                            pause.as_secs_f64().round(),
                            attempt + 1
                        ),
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Returns the CloudFormation calls made while waiting on the stack.
    pub(super) async fn run_stack(&self, step: &Step, spec: &StackSpec) -> Result<u32, StepError> {
        let name = plan::stack_name(&self.deployment().name, spec);
        let stacks = Stacks::new(self.sessions.of(step.role));
        self.change(|d| d.step_mut(step.id).stack_name = Some(name.clone()))?;

        let mut existing = stacks.describe(&name).await?;
        if let Some(info) = &existing {
            self.refuse_foreign(info)?;
            if info.in_progress() {
                // A resumed run: the operation the killed run started is still going.
                self.info(step.id, format!("{name} is {}: following it", info.status));
                (_, existing) = self
                    .settle(step, &stacks, &info.id, &HashSet::new(), Awaiting::UnderWay)
                    .await?;
            }
        }
        if let Some(info) = existing
            .clone()
            .filter(|i| Status(&i.status).needs_delete())
        {
            self.delete_failed_stack(step, &stacks, &info).await?;
            existing = None;
        }
        let update = existing
            .as_ref()
            .is_some_and(|i| i.status != REVIEW_IN_PROGRESS);
        let mut parameters = Vec::new();
        // Decided once per stack, and kept for its updates: an update must not flip it.
        let mut logging: Option<(String, String)> = None;
        for (key, source) in &spec.parameters {
            // A looked-up value is decided when the stack is made, then kept for its updates.
            let deployed = existing
                .as_ref()
                .filter(|_| update && source.is_lookup())
                .and_then(|i| i.parameters.get(*key));
            let value = match (deployed, source) {
                (Some(value), _) => value.clone(),
                (None, Source::ApiGatewayLoggingRole | Source::ApiGatewayLoggingRoleToSet) => {
                    if logging.is_none() {
                        logging = Some(self.api_logging_role(step).await?);
                    }
                    let (existing_role, to_set) = logging.clone().unwrap_or_default();
                    match source {
                        Source::ApiGatewayLoggingRole => existing_role,
                        _ => to_set,
                    }
                }
                (None, lookup) if lookup.is_lookup() => self.look_up(step, lookup).await?,
                (None, other) => self.resolve(other)?,
            };
            parameters.push((key.to_string(), value));
        }
        // Unique per attempt: a retry within the same second must not meet the last one's name.
        let change_set = format!(
            "xw-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let tags = vec![(DEPLOYMENT_TAG.to_string(), self.deployment().name.clone())];
        stacks
            .create_change_set(
                &name,
                &change_set,
                spec.template_body,
                &parameters,
                &tags,
                update,
            )
            .await?;
        let mut changes = loop {
            match stacks.change_set_state(&name, &change_set).await? {
                ChangeSetState::Pending => tokio::time::sleep(self.opts.poll.min).await,
                ChangeSetState::Ready(changes) => break changes,
                ChangeSetState::NoChanges => {
                    stacks.delete_change_set(&name, &change_set).await.ok();
                    self.info(step.id, format!("{name} is up to date: nothing to change"));
                    let info = stacks.describe(&name).await?;
                    let calls = self.take_outputs(step, &stacks, info)?;
                    // A killed run may have updated the stack without deploying the stage.
                    self.redeploy(step, spec).await?;
                    return Ok(calls);
                }
                ChangeSetState::Failed(reason) => {
                    return Err(StepError::new(
                        format!("CloudFormation refused the change set for {name}: {reason}"),
                        "fix the cause, then `xwizard resume <name>`",
                    ));
                }
            }
        };
        // What each access change grants comes from the values AWS resolved (asked for only
        // when there is one); without them the review still lists every change.
        let values = if changes.iter().any(|c| touches_access(&c.resource_type)) {
            stacks
                .add_property_values(&name, &change_set, &mut changes)
                .await
        } else {
            Ok(())
        };
        match values {
            Ok(()) => {}
            // Signed out or unreachable: the next call would fail the same way.
            Err(e) if needs_sign_in(&e) || unreachable(&e) => return Err(e.into()),
            Err(e) => self.info(
                step.id,
                format!("the access changes are listed without what they grant: {e:#}"),
            ),
        }
        let views = change_views(&changes);
        self.emit(Event::ChangeSet {
            step: step.id.to_string(),
            stack: name.clone(),
            changes: views.clone(),
        });
        let question = Question::ApplyChangeSet {
            step: step.id.to_string(),
            stack: name.clone(),
            account_id: self.deployment().account(step.role).account_id.clone(),
            changes: views,
        };
        if !self.ask(&question).await? {
            stacks.delete_change_set(&name, &change_set).await.ok();
            return Err(StepError::new(
                format!("the change set for {name} was declined; nothing was changed"),
                "run `xwizard resume <name>` when you want to apply it",
            ));
        }
        // Only what happens from here on is shown: earlier operations' events are history.
        let before = match &existing {
            Some(info) => stacks.new_events(&info.id, &HashSet::new()).await?,
            None => Vec::new(),
        };
        let seen: HashSet<String> = before.into_iter().map(|e| e.event_id).collect();
        stacks.execute_change_set(&name, &change_set).await?;
        // A read right after the call may not show the stack yet (eventual consistency):
        // ask again for a while before calling it gone.
        let (info, _) = self
            .opts
            .poll
            .retry(
                self.opts.poll.max * 12,
                || stacks.describe(&name),
                |read| matches!(read, Ok(None)).then(|| "not visible yet".to_string()),
                |_, _| {},
            )
            .await;
        let Some(info) = info? else {
            return Err(StepError::new(
                format!("{name} vanished after its change set ran"),
                "run `xwizard resume <name>`",
            ));
        };
        self.change(|d| d.step_mut(step.id).stack_id = Some(info.id.clone()))?;
        let awaiting = if update {
            Awaiting::Update
        } else {
            Awaiting::Create
        };
        let (events, info) = self
            .settle(step, &stacks, &info.id, &seen, awaiting)
            .await?;
        match info {
            Some(i) if Status(&i.status).succeeded() => {
                let calls = self.take_outputs(step, &stacks, Some(i))?;
                if update {
                    self.redeploy(step, spec).await?;
                }
                Ok(calls)
            }
            other => {
                let status = other
                    .as_ref()
                    .map_or(DELETE_COMPLETE.to_string(), |i| i.status.clone());
                let cause = root_cause(&events);
                let message = match &cause {
                    Some(c) => format!("{name} ended {status} because {} failed", c.logical_id),
                    None => format!("{name} ended {status}"),
                };
                Err(StepError {
                    message,
                    root_cause: cause.map(Box::new),
                    interrupted: false,
                    waiting: false,
                    next: format!(
                        "fix the cause, then `xwizard resume <name>` (the failed stack is deleted first, after asking); \
                         or `xwizard destroy <name>` to remove everything in account {}",
                        self.deployment().account(step.role).account_id
                    ),
                })
            }
        }
    }

    /// Deploys the stack's REST API stage again (when it has one): CloudFormation updated the
    /// API, but API Gateway serves a stage's deployment, made before the update.
    async fn redeploy(&self, step: &Step, spec: &StackSpec) -> Result<(), StepError> {
        let Some(target) = spec.redeploys else {
            return Ok(());
        };
        let Some(api_id) = self
            .deployment()
            .step(step.id)
            .outputs
            .get(target.api_id_output)
            .cloned()
        else {
            return Ok(());
        };
        let why = "xwizard: the stack was updated; a stage serves only what it was deployed with";
        let id = apis::redeploy(self.sessions.of(step.role), &api_id, target.stage, why).await?;
        self.info(
            step.id,
            format!(
                "deployed API {api_id} to stage {} again (deployment {id}): API Gateway applies \
                 an updated API only through a new deployment",
                target.stage
            ),
        );
        Ok(())
    }

    pub(super) fn refuse_foreign(&self, info: &StackInfo) -> Result<(), StepError> {
        match info.tags.get(DEPLOYMENT_TAG) {
            Some(owner) if *owner == self.deployment().name => Ok(()),
            owner => Err(StepError::new(
                format!(
                    "stack {} exists but belongs to {}; xwizard will not touch it",
                    info.name,
                    owner.map_or("no xwizard deployment".to_string(), |o| format!(
                        "deployment '{o}'"
                    ))
                ),
                "choose another deployment name, or remove that stack yourself",
            )),
        }
    }

    async fn delete_failed_stack(
        &self,
        step: &Step,
        stacks: &Stacks,
        info: &StackInfo,
    ) -> Result<(), StepError> {
        let question = Question::DeleteFailedStack {
            step: step.id.to_string(),
            stack: info.name.clone(),
            account_id: self.deployment().account(step.role).account_id.clone(),
            status: info.status.clone(),
        };
        if !self.ask(&question).await? {
            return Err(StepError::new(
                format!(
                    "{} is {} and must be deleted before it can be created again",
                    info.name, info.status
                ),
                "delete it (or answer yes), then `xwizard resume <name>`",
            ));
        }
        let seen: HashSet<String> = stacks
            .new_events(&info.id, &HashSet::new())
            .await?
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        stacks.delete(&info.id).await?;
        if let (_, Some(left)) = self
            .settle(step, stacks, &info.id, &seen, Awaiting::Delete)
            .await?
        {
            return Err(StepError::new(
                format!(
                    "{} could not be deleted: {}",
                    info.name,
                    left.reason.unwrap_or(left.status)
                ),
                "remove what blocks the deletion, then `xwizard resume <name>`",
            ));
        }
        Ok(())
    }

    fn take_outputs(
        &self,
        step: &Step,
        stacks: &Stacks,
        info: Option<StackInfo>,
    ) -> Result<u32, StepError> {
        let Some(info) = info else {
            return Err(StepError::new(
                "the stack does not exist",
                "run `xwizard resume <name>`",
            ));
        };
        self.change(|d| {
            let s = d.step_mut(step.id);
            s.stack_id = Some(info.id.clone());
            s.outputs = info.outputs.clone();
        })?;
        self.emit(Event::Outputs {
            step: step.id.to_string(),
            outputs: info.outputs,
        });
        Ok(stacks.calls())
    }

    /// Reports new events until the operation awaited has ended; returns them oldest first.
    ///
    /// Reads lag on AWS: right after a call DescribeStacks may still show the status from
    /// before it (or no stack), and DescribeStackEvents none of the new events. So the wait
    /// ends on the stack's own final event among the events new since the call, or, when
    /// idle, on a settled status only once the operation has shown itself (a new event, or an
    /// in-progress status) and only if that status is one the operation can end in.
    async fn follow(
        &self,
        step: &Step,
        stacks: &Stacks,
        stack_id: &str,
        seen: &HashSet<String>,
        awaiting: Awaiting,
    ) -> Result<Vec<StackEvent>> {
        let mut seen = seen.clone();
        let mut all = Vec::new();
        let mut interval = self.opts.poll.min.min(self.opts.poll.follow_max);
        // Polls in a row that brought no event: every STATUS_EVERY-th of them reads the
        // stack's status instead, so each poll is one call.
        let mut idle = 0u32;
        let mut started = awaiting == Awaiting::UnderWay;
        let called = std::time::Instant::now();
        let stack_name = self
            .deployment()
            .step(step.id)
            .stack_name
            .unwrap_or_else(|| stack_id.to_string());
        let report = |e: &StackEvent| {
            self.emit(Event::StackEvent {
                step: step.id.to_string(),
                stack: stack_name.clone(),
                event: e.clone(),
            })
        };
        // AWS asks us to slow down: the operation goes on regardless, so the wait does too, at
        // its slowest, for a while. Whichever call was refused counts.
        let mut throttled_in_a_row = 0;
        loop {
            // While events flow the stack is still moving; its status is read only when idle,
            // in case its final event was missed (e.g. a page boundary), and in place of an
            // events call so the wait never costs more than one call per pause.
            if idle > 0 && idle.is_multiple_of(STATUS_EVERY) {
                idle += 1;
                let polled = stacks.describe(stack_id).await;
                let Some(read) = self
                    .polled(polled, &mut throttled_in_a_row, &mut interval)
                    .await?
                else {
                    continue;
                };
                throttled_in_a_row = 0;
                started |= read.as_ref().is_some_and(StackInfo::in_progress);
                if (started || awaiting == Awaiting::Delete)
                    && awaiting.can_end_in(read.as_ref().map(|i| i.status.as_str()))
                {
                    // One last read: the final events can land after the status changed.
                    for e in stacks.new_events(stack_id, &seen).await? {
                        report(&e);
                        all.push(e);
                    }
                    return Ok(all);
                }
                interval = self.opts.poll.next_follow(interval, false);
                tokio::time::sleep(interval).await;
                continue;
            }
            let polled = stacks.new_events(stack_id, &seen).await;
            let Some(fresh) = self
                .polled(polled, &mut throttled_in_a_row, &mut interval)
                .await?
            else {
                continue;
            };
            let progressed = !fresh.is_empty();
            if progressed {
                // Only progress ends a throttled run: an empty answer between throttled status
                // reads would otherwise let them go on for ever.
                throttled_in_a_row = 0;
                idle = 0;
            } else {
                idle += 1;
            }
            started |= progressed;
            // The stack's own final event ends the wait without another call.
            let finished = fresh.iter().any(|e| is_final_stack_event(e, stack_id));
            for e in fresh {
                seen.insert(e.event_id.clone());
                report(&e);
                all.push(e);
            }
            if finished {
                return Ok(all);
            }
            if !started && called.elapsed() > NO_SIGN_OF_THE_OPERATION {
                anyhow::bail!(
                    "CloudFormation shows no sign of the operation on {stack_name} after {} \
                     minutes (no new event, no change of status)",
                    NO_SIGN_OF_THE_OPERATION.as_secs() / 60
                );
            }
            interval = self.opts.poll.next_follow(interval, progressed);
            tokio::time::sleep(interval).await;
        }
    }

    /// A poll's answer; `None` when it was throttled and sat out (ask again), an error when it
    /// failed otherwise or was throttled too often in a row.
    async fn polled<T>(
        &self,
        answer: Result<T>,
        in_a_row: &mut u32,
        interval: &mut Duration,
    ) -> Result<Option<T>> {
        match answer {
            Ok(value) => Ok(Some(value)),
            Err(e) if self.sat_out(&e, in_a_row, interval).await => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether a poll refused with `err` is sat out: a throttled one, while fewer than
    /// `THROTTLED_POLLS` were in a row, waits at the slowest interval and counts.
    async fn sat_out(
        &self,
        err: &anyhow::Error,
        in_a_row: &mut u32,
        interval: &mut Duration,
    ) -> bool {
        if !throttled(err) || *in_a_row >= THROTTLED_POLLS {
            return false;
        }
        *in_a_row += 1;
        *interval = self.opts.poll.max;
        tokio::time::sleep(*interval).await;
        true
    }

    /// Follows the operation awaited to its end, then reads the stack as it stands then: its
    /// new events (oldest first) and the stack (`None`: gone).
    pub(super) async fn settle(
        &self,
        step: &Step,
        stacks: &Stacks,
        stack_id: &str,
        seen: &HashSet<String>,
        awaiting: Awaiting,
    ) -> Result<(Vec<StackEvent>, Option<StackInfo>)> {
        let events = self.follow(step, stacks, stack_id, seen, awaiting).await?;
        let info = self
            .caught_up(stacks, stack_id, final_status(&events, stack_id))
            .await?;
        Ok((events, info))
    }

    /// The stack once reads have caught up with `final_status`, the status its own final
    /// event gave (`DELETE_COMPLETE`: gone). A read can lag the events for a while; after
    /// that the read is taken as it is.
    async fn caught_up(
        &self,
        stacks: &Stacks,
        stack_id: &str,
        final_status: Option<String>,
    ) -> Result<Option<StackInfo>> {
        let Some(wanted) = final_status else {
            return stacks.describe(stack_id).await;
        };
        let (read, _) = self
            .opts
            .poll
            .retry(
                self.opts.poll.max * 12,
                || stacks.describe(stack_id),
                |read| {
                    let now = match read {
                        Ok(Some(info)) => info.status.as_str(),
                        Ok(None) => DELETE_COMPLETE,
                        Err(_) => return None,
                    };
                    (now != wanted).then(|| format!("reads {now}, events say {wanted}"))
                },
                |_, _| {},
            )
            .await;
        read
    }
}

/// Attempts at a stack whose new logging role API Gateway has not accepted yet.
const LOGGING_ROLE_ATTEMPTS: u32 = 3;

/// Whether a stack failed only because API Gateway did not yet accept its logging role.
fn logging_role_not_ready(err: &StepError) -> bool {
    err.root_cause.as_ref().is_some_and(|c| {
        c.resource_type == "AWS::ApiGateway::Account"
            && c.reason
                .contains("does not have required permissions set to API Gateway")
    })
}

/// Of the polls in a row that bring no event, every this many-th reads the stack's status.
const STATUS_EVERY: u32 = 3;

/// Throttled polls in a row a wait sits out before it gives up (each after the SDK's own
/// retries, at the slowest poll interval).
const THROTTLED_POLLS: u32 = 30;

/// How long a just-started operation may go without any sign of itself before the wait
/// gives up: CloudFormation shows one within seconds, even with reads lagging.
const NO_SIGN_OF_THE_OPERATION: std::time::Duration = std::time::Duration::from_secs(300);

/// What a wait on a stack waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Awaiting {
    /// A change set creating the stack, just executed.
    Create,
    /// A change set updating it, just executed.
    Update,
    /// A DeleteStack just called.
    Delete,
    /// An operation found under way (a resumed run).
    UnderWay,
}

impl Awaiting {
    /// Whether a read of `status` (`None`: no stack) can be where the operation ended.
    fn can_end_in(self, status: Option<&str>) -> bool {
        match (self, status) {
            (Awaiting::Delete | Awaiting::UnderWay, None) => true,
            // Not visible (yet): a lagging read of a stack just made.
            (_, None) => false,
            (_, Some(s)) if Status(s).in_progress() => false,
            (Awaiting::Create, Some(s)) => s.starts_with("CREATE_") || s.starts_with("ROLLBACK_"),
            (Awaiting::Update, Some(s)) => s.starts_with("UPDATE_"),
            (Awaiting::Delete, Some(s)) => s == "DELETE_FAILED",
            (Awaiting::UnderWay, Some(_)) => true,
        }
    }
}

/// The status the stack's own final event among `events` gave, if one came.
fn final_status(events: &[StackEvent], stack_id: &str) -> Option<String> {
    events
        .iter()
        .rev()
        .find(|e| is_final_stack_event(e, stack_id))
        .map(|e| e.status.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_changes_are_called_out() {
        for ty in [
            "AWS::IAM::Role",
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::SecretsManager::ResourcePolicy",
            "AWS::KMS::Key",
        ] {
            assert!(touches_access(ty), "{ty}");
        }
        for ty in [
            "AWS::EC2::Subnet",
            "AWS::Logs::LogGroup",
            "AWS::EC2::NatGateway",
        ] {
            assert!(!touches_access(ty), "{ty}");
        }
    }

    #[test]
    fn a_lagging_read_never_ends_a_wait_it_does_not_belong_to() {
        // The status from before an update, or a stack not visible yet, is no end.
        assert!(!Awaiting::Update.can_end_in(Some("CREATE_COMPLETE")));
        assert!(!Awaiting::Create.can_end_in(Some("REVIEW_IN_PROGRESS")));
        assert!(!Awaiting::Create.can_end_in(None));
        assert!(!Awaiting::Delete.can_end_in(Some("CREATE_COMPLETE")));
        assert!(Awaiting::Delete.can_end_in(None));
        assert!(Awaiting::Create.can_end_in(Some("ROLLBACK_COMPLETE")));
        assert!(Awaiting::Update.can_end_in(Some("UPDATE_ROLLBACK_COMPLETE")));
        assert!(Awaiting::UnderWay.can_end_in(Some("CREATE_COMPLETE")));
    }
}
