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
