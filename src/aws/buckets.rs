//! S3: the trust bundle's upload (Pattern 2), and emptying a deployment's buckets so that
//! their stacks can be deleted (CloudFormation refuses to delete a bucket that holds objects).

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

/// Puts `body` at `key` and returns the new object's version id (the bucket is versioned, so
/// every upload is a version a trust store can name).
pub async fn put_versioned(
    session: &Session,
    bucket: &str,
    key: &str,
    body: &str,
) -> Result<String> {
    let client = aws_sdk_s3::Client::new(&session.config);
    let out = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/x-pem-file")
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(|e| explain(format!("cannot upload s3://{bucket}/{key}"), e))?;
    match out.version_id() {
        Some(v) if v != "null" => Ok(v.to_string()),
        _ => anyhow::bail!(
            "bucket {bucket} gave no version id for {key}: it is not versioned, and the trust \
             store names the object's version"
        ),
    }
}
