//! API Gateway REST APIs: deploying a stage again, so that what changed in the API (its
//! resource policy, a method, an integration) takes effect.

use anyhow::Result;

use super::Session;
use super::error::explain;

/// Deploys the API's current configuration to `stage`; the new deployment's id.
pub async fn redeploy(session: &Session, api_id: &str, stage: &str, why: &str) -> Result<String> {
    let out = aws_sdk_apigateway::Client::new(&session.config)
        .create_deployment()
        .rest_api_id(api_id)
        .stage_name(stage)
        .description(why)
        .send()
        .await
        .map_err(|e| explain(format!("cannot deploy API {api_id} to stage {stage}"), e))?;
    Ok(out.id().unwrap_or_default().to_string())
}
