//! Cleanup: every stack of the deployment deleted in dependency order (a wave's stacks
//! together), buckets emptied first so CloudFormation can delete them, then a look for
//! anything left behind.

use anyhow::Result;
use futures_util::future::join_all;
use std::collections::HashSet;

use super::events::{Event, KeptItem, Phase, Question, RunStatus, StackToDelete};
use super::root_cause::root_cause;
use super::stack_step::Awaiting;
use super::{Engine, Outcome, SIGN_IN_PLACEHOLDER, sign_in_advice, sign_in_again};
use crate::aws::error::needs_sign_in;
use crate::aws::{buckets, endpoints::Endpoints, secrets, stacks::Stacks};
use crate::plan::{self, DEPLOYMENT_TAG, Role, Step, StepKind};
use crate::state::{RootCause, StepStatus, now};

/// What a wave's deletion of one stack came to.
struct Deleted {
    step: &'static str,
    role: Role,
    error: Option<anyhow::Error>,
    /// The resource that would not go, and why (from the stack's events).
    root_cause: Option<RootCause>,
}

/// The deployment's stacks that exist in AWS now: (stack name, account id, status).
pub async fn stacks_present(
    deployment: &crate::state::Deployment,
    sessions: &super::Sessions,
) -> Result<Vec<(String, String, String)>> {
    let mut present = Vec::new();
    for step in deployment.pattern.steps() {
        let Some(spec) = step.stack() else { continue };
        let name = plan::stack_name(&deployment.name, spec);
        if let Some(info) = Stacks::new(sessions.of(step.role)).describe(&name).await? {
            present.push((
                info.name,
                deployment.account(step.role).account_id.clone(),
                info.status,
            ));
        }
    }
    Ok(present)
}

impl Engine<'_> {
    pub async fn destroy(&mut self) -> Result<Outcome> {
        let steps = self.deployment().pattern.steps();
        let mut present = Vec::new();
        for step in &steps {
            let Some(spec) = step.stack() else { continue };
            let name = plan::stack_name(&self.deployment().name, spec);
            let stacks = Stacks::new(self.sessions.of(step.role));
            match stacks.describe(&name).await? {
                Some(info) => {
                    if let Err(e) = self.refuse_foreign(&info) {
                        anyhow::bail!("{} ({})", e.message, e.next);
                    }
                    present.push((step.clone(), info));
                }
                None => self.mark_destroyed(step.id)?,
            }
        }
        if !present.is_empty() {
            let question = Question::Destroy {
                deployment: self.deployment().name.clone(),
                stacks: present
                    .iter()
                    .map(|(s, i)| StackToDelete {
                        step: s.id.to_string(),
                        stack: i.name.clone(),
                        role: s.role,
                        account_id: self.deployment().account(s.role).account_id.clone(),
                        wave: s.stack().map_or(0, |spec| spec.teardown_wave),
                    })
                    .collect(),
            };
            if !self.ask(&question).await? {
                self.info(
                    "cleanup",
                    format!(
                        "nothing was deleted; `xwizard destroy {}` removes it later",
                        self.deployment().name
                    ),
                );
                // The run ends here, as every run does, with its verdict.
                self.emit(Event::RunFinished {
                    deployment: self.deployment().name.clone(),
                    status: RunStatus::Kept,
                });
                return Ok(Outcome::Completed);
            }
        }
        let waves: std::collections::BTreeSet<u8> = present
            .iter()
            .filter_map(|(s, _)| s.stack().map(|spec| spec.teardown_wave))
            .collect();
        let mut failures = Vec::new();
        for wave in waves {
            let in_wave: Vec<&(Step, crate::aws::stacks::StackInfo)> = present
                .iter()
                .filter(|(s, _)| s.stack().is_some_and(|spec| spec.teardown_wave == wave))
                .collect();
            let results = join_all(
                in_wave
                    .iter()
                    .map(|(step, info)| self.delete_one(step, &info.id)),
            )
            .await;
            for r in results {
                match r.error {
                    None => self.mark_destroyed(r.step)?,
                    Some(e) => failures.push((r.step, r.role, e, r.root_cause)),
                }
            }
            if !failures.is_empty() {
                break; // later waves depend on this one
            }
        }
        let mut kept_now = Vec::new();
        let mut removed = Vec::new();
        if failures.is_empty() {
            // The stacks are gone: what only the wizard made goes with them.
            match self.forget_keys() {
                Ok(gone) => removed.extend(gone),
                Err(e) => failures.push(("keys", Role::Producer, e, None)),
            }
            match self.validation_records().await {
                Ok(gone) => removed.extend(gone),
                Err(e) => failures.push(("dns", Role::Producer, e, None)),
            }
            match self.bought_private_ca().await {
                Ok((kept, gone)) => {
                    kept_now.extend(kept);
                    removed.extend(gone);
                }
                Err(e) => failures.push(("ca", Role::Producer, e, None)),
            }
        }
        if failures.is_empty() {
            for step in steps
                .iter()
                .filter(|s| !matches!(s.kind, StepKind::Stack(_)))
            {
                self.mark_destroyed(step.id)?;
            }
        }
        let left = match self.leftovers().await {
            Ok(left) => left,
            // Not knowing is not "nothing left": say so, and let the run end unfinished.
            Err(e) => vec![format!("unknown: cannot look for what is left ({e:#})")],
        };
        let ok = failures.is_empty() && left.is_empty();
        let mut kept = self.kept_on_purpose();
        kept.extend(kept_now);
        self.emit(Event::CleanupResult {
            leftovers: left,
            removed,
            kept,
            clean: ok,
        });
        for (step, role, f, root_cause) in failures.iter() {
            let name = self.deployment().name.clone();
            let next = if needs_sign_in(f) {
                let profile = self.deployment().account(*role).profile.clone();
                sign_in_again(&profile, &format!("`xwizard destroy {name}` again"))
                    .replace(
                        SIGN_IN_PLACEHOLDER,
                        sign_in_advice(self.sessions.of(*role).kind),
                    )
                    .replace("<profile>", &profile)
            } else {
                format!("remove what blocks it, then `xwizard destroy {name}` again")
            };
            self.emit(Event::StepFailed {
                step: step.to_string(),
                phase: Phase::Cleanup,
                message: format!("{f:#}"),
                root_cause: root_cause.clone(),
                next,
            });
        }
        self.emit(Event::RunFinished {
            deployment: self.deployment().name.clone(),
            status: if ok {
                RunStatus::Destroyed
            } else {
                RunStatus::CleanupIncomplete
            },
        });
        Ok(if ok {
            Outcome::Completed
        } else {
            Outcome::Failed
        })
    }

    fn mark_destroyed(&self, step: &str) -> Result<()> {
        self.change(|d| {
            let s = d.step_mut(step);
            s.status = StepStatus::Destroyed;
            s.updated_at = now();
            s.failure = None;
        })
    }

    async fn delete_one(&self, step: &Step, stack_id: &str) -> Deleted {
        let mut cause = None;
        let started = std::time::Instant::now();
        let answered_before = self.answering();
        let session = self.sessions.of(step.role);
        let stacks = Stacks::new(session);
        let result: Result<()> = async {
            let stack = self
                .deployment()
                .step(step.id)
                .stack_name
                .unwrap_or_else(|| {
                    step.stack().map_or_else(String::new, |spec| {
                        plan::stack_name(&self.deployment().name, spec)
                    })
                });
            self.emit(Event::StepStarted {
                step: step.id.to_string(),
                title: format!("Delete stack {stack}"),
                role: step.role,
                account_id: self.deployment().account(step.role).account_id.clone(),
                phase: Phase::Cleanup,
                stack: Some(stack),
                wave: step.stack().map(|spec| spec.teardown_wave),
            });
            if step.stack().is_some_and(|spec| spec.deletes_slowly()) {
                self.info(
                    step.id,
                    "this stack has a Lambda function in a VPC: AWS deletes it only after Lambda \
                     has released the function's network interfaces, which takes 25 to 40 \
                     minutes. xwizard keeps waiting; if you stop it, `xwizard destroy` picks the \
                     deletion up where it is",
                );
            }
            for (_, bucket, ty) in stacks.resources(stack_id).await? {
                if ty == "AWS::S3::Bucket" && !bucket.is_empty() {
                    let n = buckets::empty(session, &bucket).await?;
                    if n > 0 {
                        self.info(
                            step.id,
                            format!("emptied bucket {bucket} ({n} objects) so it can be deleted"),
                        );
                    }
                }
            }
            let seen: HashSet<String> = stacks
                .new_events(stack_id, &HashSet::new())
                .await?
                .into_iter()
                .map(|e| e.event_id)
                .collect();
            stacks.delete(stack_id).await?;
            let (events, left) = self
                .settle(step, &stacks, stack_id, &seen, Awaiting::Delete)
                .await?;
            if let Some(info) = left {
                cause = root_cause(&events);
                anyhow::bail!(
                    "{} is {}: {}",
                    info.name,
                    info.status,
                    info.reason.unwrap_or_else(|| "no reason given".into())
                );
            }
            Ok(())
        }
        .await;
        if result.is_ok() {
            self.emit(Event::StepDone {
                step: step.id.to_string(),
                phase: Phase::Cleanup,
                seconds: self.aws_time(started, answered_before).as_secs_f64(),
                api_calls: stacks.calls(),
            });
        }
        Deleted {
            step: step.id,
            role: step.role,
            error: result.err(),
            root_cause: cause,
        }
    }

    /// Removes the deployment's private keys from the key store (the CA's, the user's client
    /// key); what was there.
    fn forget_keys(&self) -> Result<Vec<String>> {
        let d = self.deployment();
        let entries = d.pattern.aftercare().keys;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let store = crate::keys::KeyStore::open(self.opts.key_files.as_deref())?;
        let mut removed = Vec::new();
        for entry in entries {
            if store.delete(&d.name, entry)? {
                removed.push(format!("private key {entry} from {}", store.describe()));
            }
        }
        Ok(removed)
    }

    /// The certificate's DNS-validation records, which CloudFormation leaves in the zone.
    async fn validation_records(&self) -> Result<Vec<String>> {
        let d = self.deployment();
        let Some((domain, host_output)) = d.pattern.aftercare().validation_records else {
            return Ok(Vec::new());
        };
        let (Some(domain), Some(host)) = (
            d.settings.get(domain),
            d.steps.values().find_map(|s| s.outputs.get(host_output)),
        ) else {
            return Ok(Vec::new());
        };
        let removed = crate::aws::dns::delete_validation_records(
            self.sessions.of(Role::Producer),
            domain,
            host,
        )
        .await?;
        Ok(removed
            .into_iter()
            .map(|name| {
                format!(
                    "the certificate's validation record {name} (CloudFormation leaves it in \
                     {domain}'s zone)"
                )
            })
            .collect())
    }

    /// The Private CA the deployment bought: disabled and deleted when the user asked
    /// (`--delete-private-ca`), kept and listed otherwise; AWS keeps a deleted CA restorable
    /// for a while, which is said. (kept, removed.)
    async fn bought_private_ca(&self) -> Result<(Vec<KeptItem>, Vec<String>)> {
        let d = self.deployment();
        let Some(output) = d.pattern.aftercare().created_private_ca else {
            return Ok(Default::default());
        };
        let Some(arn) = d
            .steps
            .values()
            .find_map(|s| s.outputs.get(output).filter(|a| !a.is_empty()).cloned())
        else {
            return Ok(Default::default());
        };
        let delete = d.chose(crate::plan::DELETE_PRIVATE_CA);
        if !delete {
            let kept = KeptItem {
                what: format!("AWS Private CA {arn} ({})", d.region),
                why: format!(
                    "it costs money every month until deleted; `xwizard destroy {} \
                     --delete-private-ca` disables and deletes it",
                    d.name
                ),
            };
            return Ok((vec![kept], Vec::new()));
        }
        let restorable = self
            .private_ca(Role::Producer)
            .disable_and_delete(&arn, 7)
            .await?;
        let gone = match restorable {
            Some(until) => format!(
                "Private CA {arn} (AWS can restore it until {until}, and charges nothing \
                 meanwhile)"
            ),
            None => format!("Private CA {arn}"),
        };
        Ok((Vec::new(), vec![gone]))
    }

    /// What the stacks keep when they go, by design (e.g. the API Gateway logging roles they
    /// made, which every REST API of their account and region logs through from then on).
    fn kept_on_purpose(&self) -> Vec<KeptItem> {
        let mut kept = Vec::new();
        let d = self.deployment();
        for step in d.pattern.steps() {
            let outputs = d.step(step.id).outputs;
            for (output, why) in d.pattern.aftercare().kept {
                if let Some(what) = outputs.get(*output) {
                    kept.push(KeptItem {
                        what: format!("{what} ({})", d.region),
                        why: why.to_string(),
                    });
                }
            }
        }
        kept
    }

    /// Stacks, VPCs, endpoints and secrets of the deployment still present.
    async fn leftovers(&self) -> Result<Vec<String>> {
        let d = self.deployment();
        let mut left: Vec<String> = stacks_present(&d, self.sessions)
            .await?
            .into_iter()
            .map(|(name, _, status)| format!("stack {name} ({status})"))
            .collect();
        // Any other stack tagged for the deployment, whatever made it or named it.
        for role in Role::BOTH {
            let account = &d.account(role).account_id;
            for info in Stacks::new(self.sessions.of(role))
                .tagged(DEPLOYMENT_TAG, &d.name)
                .await?
            {
                let item = format!("stack {} ({})", info.name, info.status);
                if !left.contains(&item) {
                    left.push(format!("{item} in account {account}"));
                }
            }
        }
        for role in Role::BOTH {
            let account = &d.account(role).account_id;
            for item in Endpoints::new(self.sessions.of(role))
                .leftovers(DEPLOYMENT_TAG, &d.name)
                .await?
            {
                left.push(format!("{item} in account {account}"));
            }
        }
        for step in d.steps.values() {
            for (output, role) in d.pattern.aftercare().secrets {
                if let Some(arn) = step.outputs.get(*output)
                    && secrets::exists(self.sessions.of(*role), arn).await?
                {
                    left.push(format!("secret {arn}"));
                }
            }
        }
        Ok(left)
    }
}
