//! Route 53: the public hosted zone of the domain a Pattern 2 service is named in.

use anyhow::{Result, bail};

use super::Session;
use super::error::explain;

/// The id (without `/hostedzone/`) of the public hosted zone named exactly `domain`.
pub async fn public_zone_id(session: &Session, domain: &str) -> Result<String> {
    let client = aws_sdk_route53::Client::new(&session.config);
    let wanted = format!("{}.", domain.trim_end_matches('.'));
    let out = client
        .list_hosted_zones_by_name()
        .dns_name(&wanted)
        .send()
        .await
        .map_err(|e| explain(format!("cannot list the hosted zones of {domain}"), e))?;
    let mut private = false;
    for zone in out.hosted_zones() {
        if zone.name() != wanted {
            continue;
        }
        if zone.config().is_some_and(|c| c.private_zone()) {
            private = true;
            continue;
        }
        return Ok(zone.id().trim_start_matches("/hostedzone/").to_string());
    }
    if private {
        bail!(
            "{domain} has only a private hosted zone in this account; the certificate and the \
             private DNS name are validated in a public one. Create a public hosted zone for \
             {domain} (and delegate the domain to it), or choose another --domain"
        );
    }
    bail!(
        "no public Route 53 hosted zone named {domain} in this account; the certificate and the \
         private DNS name are validated there. Create one (`aws route53 create-hosted-zone \
         --name {domain} --caller-reference $(date +%s)`) and delegate the domain to it, or \
         choose another --domain"
    )
}

/// Deletes the ACM DNS-validation CNAMEs (`_<token>.<host>.` → `….acm-validations.aws.`)
/// that CloudFormation wrote in `domain`'s public zone for certificates of `host` and any
/// name under it: CloudFormation leaves them behind when it deletes the certificate. The
/// names deleted.
pub async fn delete_validation_records(
    session: &Session,
    domain: &str,
    host: &str,
) -> Result<Vec<String>> {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, RrType};
    let zone = public_zone_id(session, domain).await?;
    let client = aws_sdk_route53::Client::new(&session.config);
    let suffix = format!(".{}.", host.trim_end_matches('.'));
    let mut changes = Vec::new();
    let mut names = Vec::new();
    let mut start: Option<(String, RrType)> = None;
    // Bounded: a zone lists at most 300 records a page; 100 pages is 30,000 records.
    for _ in 0..100 {
        let mut call = client.list_resource_record_sets().hosted_zone_id(&zone);
        if let Some((name, ty)) = start.take() {
            call = call.start_record_name(name).start_record_type(ty);
        }
        let page = call
            .send()
            .await
            .map_err(|e| explain(format!("cannot list the records of {domain}"), e))?;
        for set in page.resource_record_sets() {
            let validation = set.r#type() == &RrType::Cname
                && set.name().starts_with('_')
                && set.name().ends_with(&suffix)
                && !set.resource_records().is_empty()
                && set.resource_records().iter().all(|r| {
                    r.value()
                        .trim_end_matches('.')
                        .ends_with("acm-validations.aws")
                });
            if validation {
                names.push(set.name().trim_end_matches('.').to_string());
                changes.push(
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(set.clone())
                        .build()?,
                );
            }
        }
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(name), Some(ty)) => start = Some((name.to_string(), ty.clone())),
            _ => break,
        }
    }
    if !changes.is_empty() {
        client
            .change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(ChangeBatch::builder().set_changes(Some(changes)).build()?)
            .send()
            .await
            .map_err(|e| explain(format!("cannot delete validation records in {domain}"), e))?;
    }
    Ok(names)
}
