//! Lambda: invoking the consumer function for the test step.

use anyhow::Result;

use super::Session;
use super::error::explain;

pub struct Invocation {
    /// The function's returned document.
    pub payload: serde_json::Value,
    /// Set when the function raised ("Unhandled").
    pub function_error: Option<String>,
}

/// Invokes `function_name` with `event` as its payload, waiting for its answer.
pub async fn invoke(
    session: &Session,
    function_name: &str,
    event: &serde_json::Value,
) -> Result<Invocation> {
    let client = aws_sdk_lambda::Client::new(&session.config);
    let out = client
        .invoke()
        .function_name(function_name)
        .payload(aws_smithy_types::Blob::new(event.to_string().into_bytes()))
        .send()
        .await
        .map_err(|e| explain(format!("cannot invoke {function_name}"), e))?;
    let payload = out
        .payload()
        .map(|p| serde_json::from_slice(p.as_ref()).unwrap_or(serde_json::Value::Null))
        .unwrap_or(serde_json::Value::Null);
    Ok(Invocation {
        payload,
        function_error: out.function_error().map(str::to_string),
    })
}
