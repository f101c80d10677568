//! A stack step: change set, review, execute, follow the events, take the outputs.

use anyhow::Result;
use std::collections::HashSet;

use super::events::{ChangeView, Event, Question};
use super::root_cause::root_cause;
use super::{Engine, StepError};
use crate::aws::api_logging::{self, LoggingRole};
use crate::aws::apis;
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
        })
        .collect()
}

/// Terminal states from which a stack cannot be updated, only deleted and made again.
fn needs_delete(status: &str) -> bool {
    matches!(
        status,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" | "DELETE_FAILED"
    )
}

/// The stack-level event that ends an operation (e.g. CREATE_COMPLETE, ROLLBACK_COMPLETE).
fn is_final_stack_event(e: &StackEvent, stack_id: &str) -> bool {
    e.resource_type == "AWS::CloudFormation::Stack"
        && e.physical_id == stack_id
        && !e.status.ends_with("_IN_PROGRESS")
}

fn succeeded(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

impl Engine<'_> {
    /// The value of an `ApiGatewayLoggingRole` parameter: the role API Gateway already logs
    /// with, kept as it is, or empty so that the stack makes one. Says which, and why.
    async fn api_logging_role(&self, step: &Step) -> Result<String, StepError> {
        let account = &self.deployment.account(step.role).account_id;
        let region = &self.deployment.region;
        let (value, message) = match api_logging::current(self.sessions.of(step.role)).await? {
            LoggingRole::Working { arn, unchecked } => {
                let note = unchecked
                    .map(|why| format!(" (assumed to work: {why})"))
                    .unwrap_or_default();
                let message = format!(
                    "API Gateway in {account} ({region}) already logs through {arn}{note}: \
                     leaving that account-wide setting as it is"
                );
                (arn, message)
            }
            LoggingRole::Unset => (
                String::new(),
                format!(
                    "API Gateway in {account} ({region}) has no CloudWatch logging role: this \
                     stack makes one and sets it; cleanup keeps it, as every REST API there \
                     then logs through it"
                ),
            ),
            LoggingRole::Dangling { arn } => (
                String::new(),
                format!(
                    "API Gateway in {account} ({region}) logs through {arn}, which no longer \
                     exists: this stack makes a new role and sets it"
                ),
            ),
        };
        self.info(step.id, message);
        Ok(value)
    }

    /// Returns the CloudFormation calls made while waiting on the stack.
    pub(super) async fn run_stack(
        &mut self,
        step: &Step,
        spec: &StackSpec,
    ) -> Result<u32, StepError> {
        let name = plan::stack_name(&self.deployment.name, spec);
        let stacks = Stacks::new(self.sessions.of(step.role));
        self.deployment.step_mut(step.id).stack_name = Some(name.clone());
        self.save()?;

        let mut existing = stacks.describe(&name).await?;
        if let Some(info) = &existing {
            self.refuse_foreign(info)?;
            if info.in_progress() {
                // A resumed run: the operation the killed run started is still going.
                self.info(step.id, format!("{name} is {}: following it", info.status));
                self.follow(step, &stacks, &info.id, &HashSet::new())
                    .await?;
                existing = stacks.describe(&name).await?;
            }
        }
        if let Some(info) = existing.clone().filter(|i| needs_delete(&i.status)) {
            self.delete_failed_stack(step, &stacks, &info).await?;
            existing = None;
        }
        let update = existing
            .as_ref()
            .is_some_and(|i| i.status != "REVIEW_IN_PROGRESS");
        let mut parameters = Vec::new();
        for (key, source) in &spec.parameters {
            let value = match source {
                Source::ApiGatewayLoggingRole => {
                    let deployed = existing
                        .as_ref()
                        .filter(|_| update)
                        .and_then(|i| i.parameters.get(*key));
                    match deployed {
                        Some(value) => value.clone(),
                        None => self.api_logging_role(step).await?,
                    }
                }
                other => self.resolve(other)?,
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
        let tags = vec![(DEPLOYMENT_TAG.to_string(), self.deployment.name.clone())];
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
        let changes = loop {
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
        let views = change_views(&changes);
        self.emit(Event::ChangeSet {
            step: step.id.to_string(),
            stack: name.clone(),
            changes: views.clone(),
        });
        let question = Question::ApplyChangeSet {
            step: step.id.to_string(),
            stack: name.clone(),
            account_id: self.deployment.account(step.role).account_id.clone(),
            changes: views,
        };
        if !self.asker.confirm(&question).await? {
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
        let info = stacks.describe(&name).await?;
        let Some(info) = info else {
            return Err(StepError::new(
                format!("{name} vanished after its change set ran"),
                "run `xwizard resume <name>`",
            ));
        };
        self.deployment.step_mut(step.id).stack_id = Some(info.id.clone());
        self.save()?;
        let events = self.follow(step, &stacks, &info.id, &seen).await?;
        let info = stacks.describe(&info.id).await?;
        match info {
            Some(i) if succeeded(&i.status) => {
                let calls = self.take_outputs(step, &stacks, Some(i))?;
                if update {
                    self.redeploy(step, spec).await?;
                }
                Ok(calls)
            }
            other => {
                let status = other
                    .as_ref()
                    .map_or("DELETE_COMPLETE".to_string(), |i| i.status.clone());
                let cause = root_cause(&events);
                let message = match &cause {
                    Some(c) => format!("{name} ended {status} because {} failed", c.logical_id),
                    None => format!("{name} ended {status}"),
                };
                Err(StepError {
                    message,
                    root_cause: cause.map(Box::new),
                    interrupted: false,
                    next: format!(
                        "fix the cause, then `xwizard resume <name>` (the failed stack is deleted first, after asking); \
                         or `xwizard destroy <name>` to remove everything in account {}",
                        self.deployment.account(step.role).account_id
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
            .deployment
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
            Some(owner) if *owner == self.deployment.name => Ok(()),
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
        &mut self,
        step: &Step,
        stacks: &Stacks,
        info: &StackInfo,
    ) -> Result<(), StepError> {
        let question = Question::DeleteFailedStack {
            step: step.id.to_string(),
            stack: info.name.clone(),
            account_id: self.deployment.account(step.role).account_id.clone(),
            status: info.status.clone(),
        };
        if !self.asker.confirm(&question).await? {
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
        self.follow(step, stacks, &info.id, &seen).await?;
        if let Some(left) = stacks.describe(&info.id).await? {
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
        &mut self,
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
        let s = self.deployment.step_mut(step.id);
        s.stack_id = Some(info.id.clone());
        s.outputs = info.outputs.clone();
        self.save()?;
        self.emit(Event::Outputs {
            step: step.id.to_string(),
            outputs: info.outputs,
        });
        Ok(stacks.calls())
    }

    /// Reports new events until the stack leaves `*_IN_PROGRESS`; returns them oldest first.
    pub(super) async fn follow(
        &self,
        step: &Step,
        stacks: &Stacks,
        stack_id: &str,
        seen: &HashSet<String>,
    ) -> Result<Vec<StackEvent>> {
        let mut seen = seen.clone();
        let mut all = Vec::new();
        let mut interval = self.opts.poll.min;
        let stack_name = self
            .deployment
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
        loop {
            let fresh = stacks.new_events(stack_id, &seen).await?;
            let progressed = !fresh.is_empty();
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
            // While events flow the stack is still moving; ask for its status only when idle,
            // in case its final event was missed (e.g. a page boundary).
            let settled = !progressed
                && match stacks.describe(stack_id).await? {
                    Some(info) => info.settled(),
                    None => true,
                };
            if settled {
                // One last read: the final events can land after the status changed.
                for e in stacks.new_events(stack_id, &seen).await? {
                    report(&e);
                    all.push(e);
                }
                return Ok(all);
            }
            interval = self.opts.poll.next(interval, progressed);
            tokio::time::sleep(interval).await;
        }
    }
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
    fn stacks_that_must_be_deleted_before_a_retry() {
        assert!(needs_delete("ROLLBACK_COMPLETE"));
        assert!(!needs_delete("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!needs_delete("CREATE_COMPLETE"));
    }
}
