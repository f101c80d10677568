//! SSM Run Command: shell scripts on the consumer's instance (Pattern 2's test), which has no
//! SSH and no public address.

use anyhow::Result;
use aws_sdk_ssm::types::InstanceInformationStringFilter;

use super::Session;
use super::error::{code, explain};

/// A command's run on one instance, as SSM reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `Pending`, `InProgress`, `Delayed`, `Success`, `Failed`, `TimedOut`, `Cancelled` …
    pub status: String,
    pub response_code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Invocation {
    pub fn finished(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "Pending" | "InProgress" | "Delayed" | "Cancelling"
        )
    }
}

pub struct RunCommand {
    ssm: aws_sdk_ssm::Client,
}

impl RunCommand {
    pub fn new(session: &Session) -> Self {
        Self {
            ssm: aws_sdk_ssm::Client::new(&session.config),
        }
    }

    /// The instance's SSM agent status (`Online`, `ConnectionLost` …), or None while SSM does
    /// not know it as a managed node.
    pub async fn agent_status(&self, instance_id: &str) -> Result<Option<String>> {
        let out = self
            .ssm
            .describe_instance_information()
            .filters(
                InstanceInformationStringFilter::builder()
                    .key("InstanceIds")
                    .values(instance_id)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| explain(format!("cannot ask SSM about instance {instance_id}"), e))?;
        Ok(out
            .instance_information_list()
            .iter()
            .find(|i| i.instance_id() == Some(instance_id))
            .map(|i| {
                i.ping_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default()
            }))
    }

    /// Sends `AWS-RunShellScript` with these lines; the command's id.
    pub async fn send_shell(
        &self,
        instance_id: &str,
        comment: &str,
        lines: Vec<String>,
        timeout_seconds: u32,
    ) -> Result<String> {
        let out = self
            .ssm
            .send_command()
            .instance_ids(instance_id)
            .document_name("AWS-RunShellScript")
            .comment(comment)
            .parameters("commands", lines)
            .parameters("executionTimeout", vec![timeout_seconds.to_string()])
            .send()
            .await
            .map_err(|e| {
                explain(
                    format!("cannot send a command to instance {instance_id}"),
                    e,
                )
            })?;
        Ok(out
            .command()
            .and_then(|c| c.command_id())
            .unwrap_or_default()
            .to_string())
    }

    /// The command's run on the instance; None while SSM does not show it yet (it documents
    /// `InvocationDoesNotExist` for a moment right after SendCommand).
    pub async fn invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<Option<Invocation>> {
        match self
            .ssm
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Invocation {
                status: out
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                response_code: out.response_code(),
                stdout: out
                    .standard_output_content()
                    .unwrap_or_default()
                    .to_string(),
                stderr: out.standard_error_content().unwrap_or_default().to_string(),
            })),
            Err(e) if code(&e) == Some("InvocationDoesNotExist") => Ok(None),
            Err(e) => Err(explain(
                format!("cannot read command {command_id} on {instance_id}"),
                e,
            )),
        }
    }
}
