//! API Gateway's CloudWatch logging role: ONE setting per account and region that every REST
//! API's execution and access logs go through. A stack that sets it replaces whatever the
//! account had, so the wizard reads it first and leaves a working setting alone.

use anyhow::Result;

use super::Session;
use super::error::{code, explain};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoggingRole {
    /// Nothing set: API Gateway cannot write logs in this account and region yet.
    Unset,
    /// Set to a role that exists (or that could not be checked: `unchecked` says why).
    Working {
        arn: String,
        unchecked: Option<String>,
    },
    /// Set to a role that no longer exists: logging is broken until it is replaced.
    Dangling { arn: String },
}

/// The AWS managed policy that lets API Gateway write every REST API's logs.
const PUSH_TO_LOGS: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

/// The role named `name` for API Gateway's logging, made (trusting API Gateway, with AWS's
/// managed policy) unless it exists already; its ARN.
pub async fn ensure_role(session: &Session, name: &str) -> Result<String> {
    let iam = aws_sdk_iam::Client::new(&session.config);
    match iam.get_role().role_name(name).send().await {
        Ok(found) => {
            if let Some(role) = found.role() {
                return Ok(role.arn().to_string());
            }
        }
        Err(e) if code(&e) == Some("NoSuchEntity") => {}
        Err(e) => return Err(explain(format!("cannot look up the role {name}"), e)),
    }
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let made = iam
        .create_role()
        .role_name(name)
        .description("Lets API Gateway write REST API logs to CloudWatch (account-wide setting)")
        .assume_role_policy_document(trust)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("xwizard:purpose")
                .value(
                    "API Gateway CloudWatch logging role; kept, as every REST API logs through it",
                )
                .build()
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        )
        .send()
        .await
        .map_err(|e| explain(format!("cannot make the role {name}"), e))?;
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(partitioned(PUSH_TO_LOGS, made.role().map(|r| r.arn())))
        .send()
        .await
        .map_err(|e| explain(format!("cannot attach {PUSH_TO_LOGS} to {name}"), e))?;
    Ok(made.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

/// `arn` in the partition of `like` (aws, aws-cn, aws-us-gov).
fn partitioned(arn: &str, like: Option<&str>) -> String {
    let partition = like
        .and_then(|l| l.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws");
    arn.replacen("arn:aws:", &format!("arn:{partition}:"), 1)
}

/// The account's current setting, with the role it names looked up in IAM.
pub async fn current(session: &Session) -> Result<LoggingRole> {
    let apigw = aws_sdk_apigateway::Client::new(&session.config);
    let account = apigw
        .get_account()
        .send()
        .await
        .map_err(|e| explain("cannot read API Gateway's account settings", e))?;
    let Some(arn) = account
        .cloudwatch_role_arn()
        .filter(|a| !a.is_empty())
        .map(str::to_string)
    else {
        return Ok(LoggingRole::Unset);
    };
    // arn:aws:iam::<account>:role/<path/>name: GetRole takes the bare name.
    let Some(name) = arn.rsplit('/').next().filter(|n| !n.is_empty()) else {
        return Ok(LoggingRole::Working {
            arn: arn.clone(),
            unchecked: Some("the ARN names no role".into()),
        });
    };
    let iam = aws_sdk_iam::Client::new(&session.config);
    match iam.get_role().role_name(name).send().await {
        Ok(_) => Ok(LoggingRole::Working {
            arn,
            unchecked: None,
        }),
        Err(e) if code(&e) == Some("NoSuchEntity") => Ok(LoggingRole::Dangling { arn }),
        // Not allowed to look (or a role in another account): assume it works rather than
        // replace a setting other APIs may depend on.
        Err(e) => Ok(LoggingRole::Working {
            arn,
            unchecked: Some(format!("{:#}", explain("cannot check the role in IAM", e))),
        }),
    }
}
