//! A producer's VPC endpoint service (Pattern 2): its private DNS name's verification, and the
//! consumers' connections it must accept; and, from the consumer's side, the zones it is
//! offered in.

use anyhow::{Result, bail};
use aws_sdk_ec2::types::Filter;

use super::Session;
use super::error::explain;

/// The service's private DNS name and where its verification stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateDns {
    pub name: String,
    /// `pendingVerification`, `verified` or `failed`.
    pub state: String,
    /// The TXT record AWS looks for: its name and value.
    pub record_name: String,
    pub record_value: String,
}

/// A consumer endpoint's connection to the service, as the service's owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub endpoint_id: String,
    /// The requester's account id.
    pub owner: String,
    /// `pendingAcceptance`, `pending`, `available`, `rejected`, `failed`, `deleted` …
    pub state: String,
}

pub struct EndpointServices {
    ec2: aws_sdk_ec2::Client,
}

impl EndpointServices {
    pub fn new(session: &Session) -> Self {
        Self {
            ec2: aws_sdk_ec2::Client::new(&session.config),
        }
    }

    pub async fn private_dns(&self, service_id: &str) -> Result<Option<PrivateDns>> {
        let out = self
            .ec2
            .describe_vpc_endpoint_service_configurations()
            .service_ids(service_id)
            .send()
            .await
            .map_err(|e| explain(format!("cannot describe endpoint service {service_id}"), e))?;
        let Some(service) = out.service_configurations().first() else {
            bail!("endpoint service {service_id} does not exist");
        };
        Ok(service
            .private_dns_name_configuration()
            .map(|c| PrivateDns {
                name: service.private_dns_name().unwrap_or_default().to_string(),
                state: c
                    .state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                record_name: c.name().unwrap_or_default().to_string(),
                record_value: c.value().unwrap_or_default().to_string(),
            }))
    }

    pub async fn start_private_dns_verification(&self, service_id: &str) -> Result<()> {
        self.ec2
            .start_vpc_endpoint_service_private_dns_verification()
            .service_id(service_id)
            .send()
            .await
            .map_err(|e| {
                explain(
                    format!("cannot start the private DNS verification of {service_id}"),
                    e,
                )
            })?;
        Ok(())
    }

    /// The connections of the consumer endpoint `endpoint_id` to the service (none, or one).
    pub async fn connections(
        &self,
        service_id: &str,
        endpoint_id: &str,
    ) -> Result<Vec<Connection>> {
        let out = self
            .ec2
            .describe_vpc_endpoint_connections()
            .filters(
                Filter::builder()
                    .name("service-id")
                    .values(service_id)
                    .build(),
            )
            .filters(
                Filter::builder()
                    .name("vpc-endpoint-id")
                    .values(endpoint_id)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                explain(
                    format!("cannot list the connections of endpoint service {service_id}"),
                    e,
                )
            })?;
        Ok(out
            .vpc_endpoint_connections()
            .iter()
            .map(|c| Connection {
                endpoint_id: c.vpc_endpoint_id().unwrap_or_default().to_string(),
                owner: c.vpc_endpoint_owner().unwrap_or_default().to_string(),
                state: c
                    .vpc_endpoint_state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Accepts (or rejects) the endpoint's connection; AWS answers a refused one in the body.
    pub async fn answer(&self, service_id: &str, endpoint_id: &str, accept: bool) -> Result<()> {
        let verb = if accept { "accept" } else { "reject" };
        // The two calls take the same input and give the same answer.
        macro_rules! answer_with {
            ($call:ident) => {
                self.ec2
                    .$call()
                    .service_id(service_id)
                    .vpc_endpoint_ids(endpoint_id)
                    .send()
                    .await
                    .map_err(|e| {
                        explain(format!("cannot {verb} the connection of {endpoint_id}"), e)
                    })?
                    .unsuccessful()
                    .to_vec()
            };
        }
        let refused = if accept {
            answer_with!(accept_vpc_endpoint_connections)
        } else {
            answer_with!(reject_vpc_endpoint_connections)
        };
        if let Some(item) = refused.first() {
            let (code, message) = item
                .error()
                .map(|e| {
                    (
                        e.code().unwrap_or("?"),
                        e.message().unwrap_or("no reason given"),
                    )
                })
                .unwrap_or(("?", "no reason given"));
            bail!("AWS did not {verb} the connection of {endpoint_id}: {code}: {message}");
        }
        Ok(())
    }

    /// The zones (in this account's names) the service is offered in, as a consumer sees it.
    pub async fn offered_zones(&self, service_name: &str) -> Result<Vec<String>> {
        let out = self
            .ec2
            .describe_vpc_endpoint_services()
            .service_names(service_name)
            .send()
            .await
            .map_err(|e| explain(format!("cannot look up endpoint service {service_name}"), e))?;
        let Some(detail) = out
            .service_details()
            .iter()
            .find(|d| d.service_name() == Some(service_name))
        else {
            bail!(
                "endpoint service {service_name} is not visible to this account: the producer \
                 must allow it (its permissions name this account's root)"
            );
        };
        let mut zones: Vec<String> = detail.availability_zones().to_vec();
        zones.sort();
        Ok(zones)
    }
}
