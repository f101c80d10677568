//! CloudFormation: change sets, stack status, events and deletion, for one account.

use crate::stack_status::Status;
use anyhow::Result;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};

use super::Session;
use super::error::{code, explain};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    pub id: String,
    pub name: String,
    pub status: String,
    pub reason: Option<String>,
    pub outputs: BTreeMap<String, String>,
    /// The parameter values the stack was last deployed with.
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl StackInfo {
    /// An operation is running on the stack (REVIEW_IN_PROGRESS is not one: it is a stack
    /// made by a change set that was never executed, waiting for one that is).
    pub fn in_progress(&self) -> bool {
        Status(&self.status).operating()
    }

    /// Whether a wait on the stack is over. A change set just executed can still read as
    /// REVIEW_IN_PROGRESS (its execution has not shown yet): that is not an end.
    pub fn settled(&self) -> bool {
        !Status(&self.status).in_progress()
    }
}

/// What xwizard reads of a stack; `None` for a deleted one.
fn stack_info(stack: &aws_sdk_cloudformation::types::Stack) -> Option<StackInfo> {
    let status = stack
        .stack_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    if Status(&status).deleted() {
        return None;
    }
    Some(StackInfo {
        id: stack.stack_id().unwrap_or_default().to_string(),
        name: stack.stack_name().unwrap_or_default().to_string(),
        status,
        reason: stack.stack_status_reason().map(str::to_string),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.parameter_value()?.to_string(),
                ))
            })
            .collect(),
        tags: stack
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StackEvent {
    pub event_id: String,
    /// RFC 3339.
    pub timestamp: String,
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Add, Modify, Remove, Import, Dynamic.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// "True", "False" or "Conditional" for a Modify.
    pub replacement: Option<String>,
    /// The resource's properties as AWS resolved them, before and after the change (a JSON
    /// document: `{"Properties": {…}}`); `None` where there is no such side (an Add has no
    /// before) or AWS gave none.
    pub before_context: Option<String>,
    pub after_context: Option<String>,
    /// What changes on the resource, one entry per property (or other attribute) touched.
    pub details: Vec<ChangeDetail>,
}

/// One `ResourceChangeDetail`: a touched attribute, whether changing it re-creates the
/// resource, and what made it change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeDetail {
    /// Properties, Metadata, Tags, …
    pub attribute: String,
    /// The property's name when the attribute is Properties.
    pub name: Option<String>,
    /// "Never", "Conditionally" or "Always".
    pub requires_recreation: Option<String>,
    /// DirectModification, ParameterReference, ResourceReference, ResourceAttribute, Automatic.
    pub change_source: Option<String>,
    /// The parameter or resource the change comes from, e.g. `VpcCidr` or `Vpc.CidrBlock`.
    pub causing_entity: Option<String>,
}

fn change_of(rc: &aws_sdk_cloudformation::types::ResourceChange) -> Change {
    Change {
        action: rc
            .action()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
        resource_type: rc.resource_type().unwrap_or_default().to_string(),
        replacement: rc.replacement().map(|r| r.as_str().to_string()),
        before_context: rc.before_context().map(str::to_string),
        after_context: rc.after_context().map(str::to_string),
        details: rc
            .details()
            .iter()
            .map(|d| {
                let target = d.target();
                ChangeDetail {
                    attribute: target
                        .and_then(|t| t.attribute())
                        .map(|a| a.as_str().to_string())
                        .unwrap_or_default(),
                    name: target.and_then(|t| t.name()).map(str::to_string),
                    requires_recreation: target
                        .and_then(|t| t.requires_recreation())
                        .map(|r| r.as_str().to_string()),
                    change_source: d.change_source().map(|c| c.as_str().to_string()),
                    causing_entity: d.causing_entity().map(str::to_string),
                }
            })
            .collect(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetState {
    Pending,
    Ready(Vec<Change>),
    /// The template and parameters equal what is deployed.
    NoChanges,
    Failed(String),
}

pub struct Stacks {
    client: Client,
    /// CloudFormation API calls made, for measuring how chatty a wait is.
    calls: AtomicU32,
}

impl Stacks {
    pub fn new(session: &Session) -> Self {
        Self {
            client: Client::new(&session.config),
            calls: AtomicU32::new(0),
        }
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The stack by name or id; `None` when it does not exist (or was deleted).
    pub async fn describe(&self, name_or_id: &str) -> Result<Option<StackInfo>> {
        self.count();
        let out = match self
            .client
            .describe_stacks()
            .stack_name(name_or_id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if code(&e) == Some("ValidationError") => return Ok(None),
            Err(e) => return Err(explain(format!("cannot describe stack {name_or_id}"), e)),
        };
        Ok(out.stacks().first().and_then(stack_info))
    }

    /// Every live stack of the account carrying tag `key` = `value`: what a deployment has
    /// there, whatever its stacks are named.
    pub async fn tagged(&self, key: &str, value: &str) -> Result<Vec<StackInfo>> {
        let mut found = Vec::new();
        let mut pages = self.client.describe_stacks().into_paginator().send();
        while let Some(page) = pages.next().await {
            self.count();
            let page = page.map_err(|e| explain("cannot list the stacks", e))?;
            found.extend(
                page.stacks()
                    .iter()
                    .filter_map(stack_info)
                    .filter(|s| s.tags.get(key).is_some_and(|v| v == value)),
            );
        }
        Ok(found)
    }

    /// Creates a change set; `update` when the stack exists with resources.
    pub async fn create_change_set(
        &self,
        stack: &str,
        change_set: &str,
        template_body: &str,
        parameters: &[(String, String)],
        tags: &[(String, String)],
        update: bool,
    ) -> Result<()> {
        self.count();
        let mut req = self
            .client
            .create_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .template_body(template_body)
            .change_set_type(if update {
                ChangeSetType::Update
            } else {
                ChangeSetType::Create
            })
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .description("xwizard");
        for (key, value) in parameters {
            req = req.parameters(
                Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build(),
            );
        }
        for (key, value) in tags {
            req = req.tags(Tag::builder().key(key).value(value).build());
        }
        req.send()
            .await
            .map_err(|e| explain(format!("cannot create a change set for {stack}"), e))?;
        Ok(())
    }

    /// The change set's state; once ready, every change (all pages), without property values:
    /// asked with them, AWS leaves a failed change set's reason out (so "no changes" could not
    /// be told from a failure) and drops a resource whose JSON property it cannot check.
    pub async fn change_set_state(&self, stack: &str, change_set: &str) -> Result<ChangeSetState> {
        let mut changes = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .change_set_page(stack, change_set, false, token.take())
                .await?;
            let status = out.status().map(|s| s.as_str()).unwrap_or_default();
            let reason = out.status_reason().unwrap_or_default();
            match status {
                "CREATE_COMPLETE" => {}
                "FAILED"
                    if reason.contains("didn't contain changes")
                        || reason.contains("No updates") =>
                {
                    return Ok(ChangeSetState::NoChanges);
                }
                "FAILED" => return Ok(ChangeSetState::Failed(reason.to_string())),
                _ => return Ok(ChangeSetState::Pending),
            }
            changes.extend(
                out.changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(change_of),
            );
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(ChangeSetState::Ready(changes)),
            }
        }
    }

    /// Adds to `changes` the property values AWS resolved for a ready change set
    /// (`IncludePropertyValues`): each resource's before and after context. A resource AWS
    /// leaves out of that answer keeps none.
    pub async fn add_property_values(
        &self,
        stack: &str,
        change_set: &str,
        changes: &mut [Change],
    ) -> Result<()> {
        let mut token: Option<String> = None;
        loop {
            let out = self
                .change_set_page(stack, change_set, true, token.take())
                .await?;
            for rc in out.changes().iter().filter_map(|c| c.resource_change()) {
                let valued = change_of(rc);
                if let Some(c) = changes
                    .iter_mut()
                    .find(|c| c.logical_id == valued.logical_id)
                {
                    c.before_context = valued.before_context;
                    c.after_context = valued.after_context;
                }
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => return Ok(()),
            }
        }
    }

    /// One page of DescribeChangeSet, with the property values or without.
    async fn change_set_page(
        &self,
        stack: &str,
        change_set: &str,
        values: bool,
        token: Option<String>,
    ) -> Result<aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput>
    {
        self.count();
        self.client
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .include_property_values(values)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                let what = if values {
                    "the property values of change set"
                } else {
                    "change set"
                };
                explain(format!("cannot read {what} {change_set} of {stack}"), e)
            })
    }

    pub async fn execute_change_set(&self, stack: &str, change_set: &str) -> Result<()> {
        self.count();
        self.client
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| {
                explain(
                    format!("cannot execute change set {change_set} of {stack}"),
                    e,
                )
            })?;
        Ok(())
    }

    pub async fn delete_change_set(&self, stack: &str, change_set: &str) -> Result<()> {
        self.count();
        self.client
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| {
                explain(
                    format!("cannot delete change set {change_set} of {stack}"),
                    e,
                )
            })?;
        Ok(())
    }

    /// Events not yet in `seen`, oldest first. Pages newest-first and stops at the first page
    /// that reaches a seen event, so a long history is read once, not at every poll.
    pub async fn new_events(
        &self,
        stack_id: &str,
        seen: &HashSet<String>,
    ) -> Result<Vec<StackEvent>> {
        let mut fresh = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.count();
            let out = self
                .client
                .describe_stack_events()
                .stack_name(stack_id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| explain(format!("cannot read the events of {stack_id}"), e))?;
            let mut reached_seen = false;
            for e in out.stack_events() {
                let id = e.event_id().unwrap_or_default();
                if seen.contains(id) {
                    reached_seen = true;
                    break;
                }
                fresh.push(StackEvent {
                    event_id: id.to_string(),
                    timestamp: e
                        .timestamp()
                        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                        .unwrap_or_default(),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: e.physical_resource_id().unwrap_or_default().to_string(),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().unwrap_or_default().to_string(),
                });
            }
            match out.next_token() {
                Some(next) if !reached_seen => token = Some(next.to_string()),
                _ => break,
            }
        }
        fresh.reverse();
        Ok(fresh)
    }

    pub async fn delete(&self, stack_id: &str) -> Result<()> {
        self.count();
        self.client
            .delete_stack()
            .stack_name(stack_id)
            .send()
            .await
            .map_err(|e| explain(format!("cannot delete stack {stack_id}"), e))?;
        Ok(())
    }

    /// (logical id, physical id, type) of every resource of the stack.
    pub async fn resources(&self, stack: &str) -> Result<Vec<(String, String, String)>> {
        self.count();
        let out = self
            .client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| explain(format!("cannot list the resources of {stack}"), e))?;
        Ok(out
            .stack_resources()
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_string(),
                    r.physical_resource_id().unwrap_or_default().to_string(),
                    r.resource_type().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }
}
