//! Client of the emulator's control API (`/_sandbox/…`): reset and fault injection.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Control {
    base: String,
    http: reqwest::Client,
}

impl Control {
    pub fn new(endpoint_url: &str) -> Self {
        Self {
            base: format!("{}/_sandbox", endpoint_url.trim_end_matches('/')),
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let url = format!("{}/{path}", self.base);
        let resp = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("the sandbox's control API did not answer at {url}"))?;
        let status = resp.status();
        let doc: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "the sandbox refused {path}: {}",
                doc["error"].as_str().unwrap_or("no reason given")
            );
        }
        Ok(doc)
    }

    /// The IAM actions each account's calls have needed since the last reset (or
    /// [`Control::forget_actions`]), by account id.
    pub async fn actions(&self) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
        let url = format!("{}/actions", self.base);
        let resp = self.http.get(&url).send().await?;
        Ok(resp.error_for_status()?.json().await?)
    }

    /// Starts the record of [`Control::actions`] afresh, so that what follows is one run's.
    pub async fn forget_actions(&self) -> Result<()> {
        self.post("actions/forget", json!({})).await.map(drop)
    }

    pub async fn health(&self) -> Result<()> {
        let url = format!("{}/health", self.base);
        let resp = self.http.get(&url).send().await?;
        if !resp.status().is_success() {
            bail!("the sandbox at {url} answered {}", resp.status());
        }
        Ok(())
    }

    /// Forgets every resource and fault; the two accounts and their keys stay valid.
    pub async fn reset(&self) -> Result<()> {
        self.post("reset", json!({})).await.map(drop)
    }

    /// The next creation (or update), or the next deletion, of `logical_id` (in `stack_name`,
    /// or any stack) fails with `reason`.
    pub async fn fail_resource(
        &self,
        logical_id: &str,
        reason: &str,
        stack_name: Option<&str>,
        on: FaultOn,
    ) -> Result<()> {
        let body = json!({
            "logical_id": logical_id,
            "reason": reason,
            "stack_name": stack_name.unwrap_or(""),
            "on": on.as_str(),
        });
        self.post("faults/fail-resource", body).await.map(drop)
    }

    /// DescribeStacks and DescribeStackEvents lag each change by `ms` (0: reads are current
    /// again), as AWS's eventually consistent reads do.
    pub async fn stale_reads(&self, ms: u64) -> Result<()> {
        self.post("faults/stale-reads", json!({"ms": ms}))
            .await
            .map(drop)
    }

    /// The next `count` CloudWatch roles given to API Gateway are refused, as a role IAM has
    /// not yet propagated is.
    pub async fn role_not_ready(&self, count: u32) -> Result<()> {
        self.post("faults/role-not-ready", json!({"count": count}))
            .await
            .map(drop)
    }

    /// The next `count` MFA one-time codes STS is given are refused as invalid, as a
    /// mistyped or stale code is.
    pub async fn mfa_reject(&self, count: u32) -> Result<()> {
        self.post("faults/mfa-reject", json!({"count": count}))
            .await
            .map(drop)
    }

    pub async fn hold_stack(&self, stack_name: &str) -> Result<()> {
        self.post("faults/hold-stack", json!({"stack_name": stack_name}))
            .await
            .map(drop)
    }

    pub async fn release_stack(&self, stack_name: &str) -> Result<()> {
        self.post("faults/release-stack", json!({"stack_name": stack_name}))
            .await
            .map(drop)
    }

    /// Work of a kind AWS finishes a moment later (`acm-pca`: a Private CA leaving CREATING,
    /// a certificate being issued; `ssm-invocations`: a command's run) stays unfinished until
    /// released.
    pub async fn hold_work(&self, what: &str) -> Result<()> {
        self.post("faults/hold", json!({"what": what}))
            .await
            .map(drop)
    }

    pub async fn release_work(&self, what: &str) -> Result<()> {
        self.post("faults/release", json!({"what": what}))
            .await
            .map(drop)
    }

    /// Every call signed with the credentials of `account` ("producer", "consumer" or an
    /// account id) is refused as expired until they are renewed.
    pub async fn expire_credentials(&self, account: &str) -> Result<()> {
        self.post("faults/expire-credentials", json!({"account": account}))
            .await
            .map(drop)
    }

    pub async fn renew_credentials(&self, account: &str) -> Result<()> {
        self.post("faults/renew-credentials", json!({"account": account}))
            .await
            .map(drop)
    }

    /// The data plane answers its next `count` calls 503, as a just-made API sometimes does.
    pub async fn data_plane_unavailable(&self, count: u32) -> Result<()> {
        self.post("faults/data-plane-unavailable", json!({"count": count}))
            .await
            .map(drop)
    }

    /// The next `count` calls of `service`'s `operation` are throttled.
    pub async fn throttle(&self, service: &str, operation: &str, count: u32) -> Result<()> {
        let body = json!({"service": service, "operation": operation, "count": count});
        self.post("faults/throttle", body).await.map(drop)
    }
}

/// Which operation on a resource an injected failure hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FaultOn {
    /// Its creation or update
    #[default]
    Create,
    /// Its deletion (a stack delete, or a rollback removing it)
    Delete,
}

impl FaultOn {
    fn as_str(self) -> &'static str {
        match self {
            FaultOn::Create => "create",
            FaultOn::Delete => "delete",
        }
    }
}
