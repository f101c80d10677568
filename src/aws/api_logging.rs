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
