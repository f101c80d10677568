//! S3: emptying a deployment's log bucket so that its stack can be deleted (CloudFormation
//! refuses to delete a bucket that holds objects).

use anyhow::Result;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::Session;
use super::error::{code, explain};

/// Deletes every object version and delete marker; returns how many were removed.
pub async fn empty(session: &Session, bucket: &str) -> Result<usize> {
    let client = aws_sdk_s3::Client::new(&session.config);
    let mut removed = 0;
    loop {
        let page = match client.list_object_versions().bucket(bucket).send().await {
            Ok(page) => page,
            Err(e) if code(&e) == Some("NoSuchBucket") => return Ok(removed),
            Err(e) => return Err(explain(format!("cannot list bucket {bucket}"), e)),
        };
        // Versions first, then delete markers: (key, version id) of each.
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        let mut ids = Vec::new();
        for (key, version_id) in versions.chain(markers) {
            ids.push(
                ObjectIdentifier::builder()
                    .key(key.unwrap_or_default())
                    .set_version_id(version_id.map(str::to_string))
                    .build()?,
            );
        }
        if ids.is_empty() {
            return Ok(removed);
        }
        removed += ids.len();
        client
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| explain(format!("cannot empty bucket {bucket}"), e))?;
    }
}
