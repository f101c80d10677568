//! What the engine tells its front ends, and what it asks them. The TUI, the line mode and the
//! JSON mode are three renderers of the same stream; none of them knows the SDK.

use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use super::access_changes::AccessRow;
use crate::aws::stacks::StackEvent;
use crate::plan::Role;
use crate::state::RootCause;

/// One row of a change set, with what deserves a second look called out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeView {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// "True", "False" or "Conditional" for a Modify; null for an Add or a Remove.
    pub replacement: Option<String>,
    /// IAM, security group, resource policy or key changes: they widen or narrow access.
    pub access: bool,
    /// For a replacement: the property changes that cause it, e.g. "CidrBlock".
    pub replaced_by: Vec<String>,
    /// For an access change: what it grants or takes away, one row per statement, rule or
    /// grant (empty where AWS gave no property values).
    pub details: Vec<AccessRow>,
}

/// One test call or check, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckView {
    pub name: String,
    /// e.g. "GET https://…/prod/widgets (Authorization: <API key>)": never the key itself.
    pub request: String,
    pub expected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub body: String,
    pub latency_ms: u64,
    pub passed: bool,
    /// Calls made: more than one when a just-made API answered 5xx while warming up.
    pub attempts: u32,
}

impl CheckView {
    /// ", on attempt 3" when it took more than one call; empty otherwise.
    pub fn attempts_note(&self) -> String {
        if self.attempts > 1 {
            format!(", on attempt {}", self.attempts)
        } else {
            String::new()
        }
    }
}

/// Whether a step builds the deployment or takes it down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Deploy,
    Cleanup,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RunStatus {
    /// Every step is done.
    #[serde(rename = "deployed")]
    Deployed,
    /// A step failed; the record says which and what to do.
    #[serde(rename = "failed")]
    Failed,
    /// Stopped from outside (Ctrl-C, a signal) between two steps' awaits.
    #[serde(rename = "interrupted")]
    Interrupted,
    /// Nothing of the deployment is left but what is kept on purpose.
    #[serde(rename = "destroyed")]
    Destroyed,
    /// Some of it could not be deleted, or could not be looked for.
    #[serde(rename = "cleanup incomplete")]
    CleanupIncomplete,
    /// The cleanup was declined: everything stays.
    #[serde(rename = "kept")]
    Kept,
    /// A step waits for the user's answer (a connection left for later, or rejected).
    #[serde(rename = "waiting")]
    Waiting,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
            Self::Destroyed => "destroyed",
            Self::CleanupIncomplete => "cleanup incomplete",
            Self::Kept => "kept",
            Self::Waiting => "waiting",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a cleanup leaves in place by design, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptItem {
    /// e.g. the ARN of an IAM role, with its region.
    pub what: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        deployment: String,
        /// As the command line names it (`vpc-endpoint`).
        pattern: crate::plan::Pattern,
        region: String,
        producer_account: String,
        consumer_account: String,
    },
    StepStarted {
        step: String,
        title: String,
        role: Role,
        account_id: String,
        phase: Phase,
        /// The stack the step makes or deletes, for a stack step.
        #[serde(skip_serializing_if = "Option::is_none")]
        stack: Option<String>,
        /// In a cleanup: stacks of one wave are deleted together, lowest wave first.
        #[serde(skip_serializing_if = "Option::is_none")]
        wave: Option<u8>,
    },
    ChangeSet {
        step: String,
        stack: String,
        changes: Vec<ChangeView>,
    },
    StackEvent {
        step: String,
        stack: String,
        #[serde(flatten)]
        event: StackEvent,
    },
    Outputs {
        step: String,
        outputs: BTreeMap<String, String>,
    },
    Info {
        step: String,
        message: String,
    },
    /// A check got an answer worth waiting out (a just-made API warming up): it asks again.
    CheckRetry {
        step: String,
        check: String,
        attempt: u32,
        /// What the answer was, in full (a status, or the error).
        cause: String,
    },
    Check {
        step: String,
        #[serde(flatten)]
        check: CheckView,
    },
    StepDone {
        step: String,
        phase: Phase,
        /// AWS's time: the time spent waiting for the user's answers is not counted.
        seconds: f64,
        /// CloudFormation calls made while following the stack.
        api_calls: u32,
    },
    StepFailed {
        step: String,
        phase: Phase,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        root_cause: Option<RootCause>,
        next: String,
    },
    /// A step stopped to wait for the user (a connection left for later): not a failure;
    /// `next` says how to carry on.
    StepWaiting {
        step: String,
        message: String,
        next: String,
    },
    /// A consumer endpoint asks to connect to the producer's endpoint service.
    ConnectionPending {
        step: String,
        #[serde(flatten)]
        request: ConnectionRequest,
    },
    /// What was answered, and by whom (`flag`: `--accept-connection`; `you`: at a prompt).
    ConnectionAnswered {
        step: String,
        endpoint_id: String,
        answer: ConnectionAnswer,
        by: String,
    },
    /// What a cleanup found at its end, in both accounts.
    CleanupResult {
        /// What of the deployment is still there (stacks, endpoints, secrets …).
        leftovers: Vec<String>,
        /// What went besides the stacks: private keys from the key store, DNS records
        /// CloudFormation leaves, a Private CA.
        removed: Vec<String>,
        kept: Vec<KeptItem>,
        /// Nothing is left but what is kept on purpose.
        clean: bool,
    },
    RunFinished {
        deployment: String,
        status: RunStatus,
    },
}

/// A decision only the user may take.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "question", rename_all = "snake_case")]
pub enum Question {
    /// Execute this change set in this account?
    ApplyChangeSet {
        step: String,
        stack: String,
        account_id: String,
        changes: Vec<ChangeView>,
    },
    /// A stack that failed to create must be deleted before it can be made again.
    DeleteFailedStack {
        step: String,
        stack: String,
        account_id: String,
        status: String,
    },
    /// Delete every stack of the deployment?
    Destroy {
        deployment: String,
        stacks: Vec<StackToDelete>,
    },
    /// Accept, reject or leave for later the consumer's connection to the service?
    AcceptConnection {
        step: String,
        #[serde(flatten)]
        request: ConnectionRequest,
    },
}

/// A pending connection to the producer's endpoint service: who asks, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionRequest {
    pub service_id: String,
    pub endpoint_id: String,
    /// The requester's account, as AWS reports it.
    pub requester_account: String,
    /// The account the deployment's consumer profile is: a different requester is a stranger.
    pub expected_account: String,
    /// The requesting endpoint's VPC (read in the consumer account; empty if unknown).
    pub vpc_id: String,
    /// The producer account, which accepts.
    pub account_id: String,
}

/// The user's answer to a pending connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionAnswer {
    Accept,
    Reject,
    /// Leave it pending; `xwizard resume` asks again.
    Later,
}

impl ConnectionAnswer {
    /// What became of the connection: "accepted", "rejected", "left for later".
    pub fn outcome(self) -> &'static str {
        match self {
            Self::Accept => "accepted",
            Self::Reject => "rejected",
            Self::Later => "left for later",
        }
    }
}

/// A stack a cleanup will delete, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackToDelete {
    /// The plan step whose stack it is.
    pub step: String,
    pub stack: String,
    pub role: Role,
    pub account_id: String,
    /// Stacks of a wave are deleted together, lowest wave first.
    pub wave: u8,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Reporter: Send + Sync {
    fn report(&self, event: &Event);
}

pub trait Asker: Send + Sync {
    /// Yes or no; an error when no answer can be had (e.g. no terminal and no `--yes`).
    fn confirm<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, anyhow::Result<bool>>;

    /// Accept, reject or later, for `Question::AcceptConnection`. Where nobody can be asked
    /// the connection waits: only `--accept-connection` accepts without a person.
    fn connection<'a>(
        &'a self,
        _question: &'a Question,
    ) -> BoxFuture<'a, anyhow::Result<ConnectionAnswer>> {
        Box::pin(async { Ok(ConnectionAnswer::Later) })
    }
}

/// `--yes`: every yes/no question is answered yes (a connection is not: see `Asker`).
pub struct AlwaysYes;

impl Asker for AlwaysYes {
    fn confirm<'a>(&'a self, _question: &'a Question) -> BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async { Ok(true) })
    }
}
