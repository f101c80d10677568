//! Pattern 2's steps around the producer's endpoint service, which the seed hid in custom
//! resources or left to a console: the trust bundle's upload, the private DNS name's
//! verification, and the consumer's connection, accepted only when the user says so.

use std::collections::BTreeMap;
use std::time::Duration;

use super::events::{ConnectionAnswer, ConnectionRequest, Event, Question};
use super::{Engine, StepError};
use crate::aws::buckets;
use crate::aws::endpoint_services::{Connection, EndpointServices};
use crate::plan::{Role, Source, Step};

/// Where the CA bundle lives in its bucket.
const BUNDLE_KEY: &str = "trust-store/ca-bundle.pem";
/// AWS checks the TXT record in public DNS; it documents no bound, and it takes minutes.
const PRIVATE_DNS_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// A consumer endpoint's connection shows in the producer's reads within seconds.
const CONNECTION_SHOWS_DEADLINE: Duration = Duration::from_secs(120);
/// From accepted to `available`: the endpoint's interfaces are set up, in minutes.
const CONNECTION_AVAILABLE_DEADLINE: Duration = Duration::from_secs(15 * 60);

impl Engine<'_> {
    pub(super) async fn upload_trust_bundle(
        &self,
        step: &Step,
        bucket: &Source,
        ca_certificate: &Source,
    ) -> Result<(), StepError> {
        let bucket = self.resolve(bucket)?;
        let pem = self.resolve(ca_certificate)?;
        let version =
            buckets::put_versioned(self.sessions.of(step.role), &bucket, BUNDLE_KEY, &pem).await?;
        self.change(|d| {
            d.step_mut(step.id).outputs = BTreeMap::from([
                ("TrustBundleKey".to_string(), BUNDLE_KEY.to_string()),
                ("TrustBundleVersion".to_string(), version.clone()),
            ]);
        })?;
        self.info(
            step.id,
            format!("s3://{bucket}/{BUNDLE_KEY} is version {version}: the trust store names it"),
        );
        Ok(())
    }

    pub(super) async fn verify_private_dns(
        &self,
        step: &Step,
        service: &Source,
    ) -> Result<(), StepError> {
        let service_id = self.resolve(service)?;
        let services = EndpointServices::new(self.sessions.of(step.role));
        let Some(dns) = services.private_dns(&service_id).await? else {
            return Err(StepError::new(
                format!("endpoint service {service_id} has no private DNS name"),
                "the producer-api stack sets one: `xwizard resume <name>` deploys it again",
            ));
        };
        if dns.state == "verified" {
            self.info(step.id, format!("{} is verified already", dns.name));
            return Ok(());
        }
        self.info(
            step.id,
            format!(
                "AWS verifies that this account owns {} by finding the TXT record {} = {} (the \
                 stack wrote it) in the domain's public DNS; this takes minutes",
                dns.name, dns.record_name, dns.record_value
            ),
        );
        services.start_private_dns_verification(&service_id).await?;
        let (verified, last) = self
            .wait_until(
                PRIVATE_DNS_DEADLINE,
                || services.private_dns(&service_id),
                |now| {
                    now.as_ref()
                        .is_some_and(|d| matches!(d.state.as_str(), "verified" | "failed"))
                },
            )
            .await?;
        let state = last.map(|d| d.state).unwrap_or_default();
        if !verified || state != "verified" {
            return Err(StepError::new(
                format!(
                    "the private DNS name {} of {service_id} is {state}: AWS did not find the TXT \
                     record {} in public DNS",
                    dns.name, dns.record_name
                ),
                "check that the domain is delegated to this hosted zone (its NS records at the \
                 registrar name the zone's name servers), then `xwizard resume <name>` starts \
                 the verification again",
            ));
        }
        self.info(step.id, format!("{} is verified", dns.name));
        Ok(())
    }

    pub(super) async fn accept_connection(
        &self,
        step: &Step,
        service: &Source,
        endpoint: &Source,
    ) -> Result<(), StepError> {
        let service_id = self.resolve(service)?;
        let endpoint_id = self.resolve(endpoint)?;
        let services = EndpointServices::new(self.sessions.of(step.role));
        // The consumer's endpoint shows in the producer's reads a moment after it is made.
        let (shown, connections) = self
            .wait_until(
                CONNECTION_SHOWS_DEADLINE,
                || services.connections(&service_id, &endpoint_id),
                |now: &Vec<Connection>| !now.is_empty(),
            )
            .await?;
        let Some(connection) = connections.into_iter().next().filter(|_| shown) else {
            return Err(StepError::new(
                format!(
                    "endpoint service {service_id} shows no connection from {endpoint_id} {}s \
                     after it was made",
                    CONNECTION_SHOWS_DEADLINE.as_secs()
                ),
                "check the consumer's endpoint in the consumer account; `xwizard resume <name>` \
                 looks again",
            ));
        };
        match connection.state.as_str() {
            "available" => {
                self.info(
                    step.id,
                    format!("the connection of {endpoint_id} is accepted and available already"),
                );
                return Ok(());
            }
            "pending" => {}
            "pendingAcceptance" => {
                self.answer_connection(step, &services, &service_id, &connection)
                    .await?
            }
            "rejected" => {
                return Err(StepError::waiting(
                    format!("the connection of {endpoint_id} was rejected"),
                    "a rejected endpoint cannot ask again: `xwizard destroy <name>` removes the \
                     deployment, and a new run makes a new endpoint",
                ));
            }
            other => {
                return Err(StepError::new(
                    format!("the connection of {endpoint_id} is {other}"),
                    "look at the endpoint in the consumer account; `xwizard resume <name>` \
                     looks again",
                ));
            }
        }
        let (available, last) = self
            .wait_until(
                CONNECTION_AVAILABLE_DEADLINE,
                || services.connections(&service_id, &endpoint_id),
                |now: &Vec<Connection>| now.iter().any(|c| c.state == "available"),
            )
            .await?;
        if !available {
            let state = last
                .first()
                .map_or("gone", |c| c.state.as_str())
                .to_string();
            return Err(StepError::new(
                format!(
                    "the connection of {endpoint_id} is {state}, not available, {} minutes after \
                     it was accepted",
                    CONNECTION_AVAILABLE_DEADLINE.as_secs() / 60
                ),
                "`xwizard resume <name>` waits again",
            ));
        }
        self.info(
            step.id,
            format!("the connection of {endpoint_id} is available"),
        );
        Ok(())
    }

    /// Shows who asks and takes the answer: `--accept-connection` (setting
    /// `accept_connection`) accepts; otherwise only a person can, at a prompt.
    async fn answer_connection(
        &self,
        step: &Step,
        services: &EndpointServices,
        service_id: &str,
        connection: &Connection,
    ) -> Result<(), StepError> {
        let d = self.deployment();
        let vpc_id = crate::aws::endpoints::Endpoints::new(self.sessions.of(Role::Consumer))
            .vpc_of(&connection.endpoint_id)
            .await
            .unwrap_or_default();
        let request = ConnectionRequest {
            service_id: service_id.to_string(),
            endpoint_id: connection.endpoint_id.clone(),
            requester_account: connection.owner.clone(),
            expected_account: d.consumer.account_id.clone(),
            vpc_id,
            account_id: d.producer.account_id.clone(),
        };
        self.emit(Event::ConnectionPending {
            step: step.id.to_string(),
            request: request.clone(),
        });
        let stranger = request.requester_account != request.expected_account;
        let by_flag = d.chose(crate::plan::ACCEPT_CONNECTION);
        let (answer, by) = if by_flag && !stranger {
            (ConnectionAnswer::Accept, "flag")
        } else {
            let question = Question::AcceptConnection {
                step: step.id.to_string(),
                request: request.clone(),
            };
            (self.ask_connection(&question).await?, "you")
        };
        self.emit(Event::ConnectionAnswered {
            step: step.id.to_string(),
            endpoint_id: request.endpoint_id.clone(),
            answer,
            by: by.to_string(),
        });
        match answer {
            ConnectionAnswer::Accept => {
                services
                    .answer(service_id, &request.endpoint_id, true)
                    .await?;
                Ok(())
            }
            ConnectionAnswer::Reject => {
                services
                    .answer(service_id, &request.endpoint_id, false)
                    .await?;
                Err(StepError::waiting(
                    format!(
                        "you rejected the connection of {} (account {})",
                        request.endpoint_id, request.requester_account
                    ),
                    "a rejected endpoint cannot ask again: `xwizard destroy <name>` removes the \
                     deployment, and a new run makes a new endpoint",
                ))
            }
            ConnectionAnswer::Later => Err(StepError::waiting(
                format!(
                    "the connection of {} (account {}, VPC {}) waits for your answer",
                    request.endpoint_id,
                    request.requester_account,
                    if request.vpc_id.is_empty() {
                        "?"
                    } else {
                        &request.vpc_id
                    }
                ),
                "`xwizard resume <name>` asks again; `xwizard resume <name> \
                 --accept-connection` accepts it without asking",
            )),
        }
    }
}
