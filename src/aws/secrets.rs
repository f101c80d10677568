//! Secrets Manager: reading the API key for the test call. The value is handed to the caller
//! wrapped so that it never prints.

use anyhow::{Result, bail};
use std::fmt;

use super::Session;
use super::error::explain;

/// A secret value: `Debug` and `Display` print a placeholder, never the value.
#[derive(Clone)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

pub async fn read(session: &Session, secret_arn: &str) -> Result<SecretValue> {
    let client = aws_sdk_secretsmanager::Client::new(&session.config);
    let out = client
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .map_err(|e| explain(format!("cannot read secret {secret_arn}"), e))?;
    match out.secret_string() {
        Some(value) => Ok(SecretValue(value.to_string())),
        None => bail!("secret {secret_arn} holds no string value"),
    }
}

/// True while a secret with this ARN still exists (not scheduled for deletion).
pub async fn exists(session: &Session, secret_arn: &str) -> Result<bool> {
    let client = aws_sdk_secretsmanager::Client::new(&session.config);
    match client.describe_secret().secret_id(secret_arn).send().await {
        Ok(out) => Ok(out.deleted_date().is_none()),
        Err(e) if super::error::code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(explain(format!("cannot describe secret {secret_arn}"), e)),
    }
}
