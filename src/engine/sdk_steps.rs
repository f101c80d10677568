//! The steps the seed hid in custom-resource Lambdas, done with the SDK: the endpoint's
//! addresses registered as the load balancer's targets, and the endpoint policy scoped to the
//! producer API. Each reads back what it wrote. AWS's reads after a write are eventually
//! consistent, so the read-back waits, with a deadline, for the write to show.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use super::policy;
use super::{Engine, StepError};
use crate::aws::endpoints::Endpoints;
use crate::plan::{Source, Step};

/// How long a write may take to show in AWS's reads before the step says it did not apply.
const READ_BACK_DEADLINE: Duration = Duration::from_secs(60);

impl Engine<'_> {
    /// Reads with `probe` until `done` accepts the reading or the deadline passes; whether it
    /// did, and the last reading. A failed read ends the wait with its error.
    async fn read_back<T, F, Fut>(
        &self,
        probe: F,
        done: impl Fn(&T) -> bool,
    ) -> anyhow::Result<(bool, T)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        self.wait_until(READ_BACK_DEADLINE, probe, done).await
    }

    /// `read_back` with its own deadline, for states AWS takes minutes to reach.
    pub(super) async fn wait_until<T, F, Fut>(
        &self,
        deadline: Duration,
        probe: F,
        done: impl Fn(&T) -> bool,
    ) -> anyhow::Result<(bool, T)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let (reading, _) = self
            .opts
            .poll
            .retry(
                deadline,
                probe,
                |r: &anyhow::Result<T>| match r {
                    Ok(reading) if !done(reading) => Some("not shown yet".to_string()),
                    _ => None,
                },
                |_, _| {},
            )
            .await;
        let reading = reading?;
        Ok((done(&reading), reading))
    }

    pub(super) async fn register_targets(
        &self,
        step: &Step,
        endpoint: &Source,
        target_group: &Source,
    ) -> Result<(), StepError> {
        let endpoint_id = self.resolve(endpoint)?;
        let tg = self.resolve(target_group)?;
        let endpoints = Endpoints::new(self.sessions.of(step.role));
        let ips = endpoints.endpoint_ips(&endpoint_id).await?;
        self.info(
            step.id,
            format!("endpoint {endpoint_id} has addresses {}", ips.join(", ")),
        );
        endpoints.register_ip_targets(&tg, &ips, 443).await?;
        let (registered, now) = self
            .read_back(
                || endpoints.registered_targets(&tg),
                |now: &Vec<String>| ips.iter().all(|ip| now.contains(ip)),
            )
            .await?;
        if !registered {
            let missing: Vec<&String> = ips.iter().filter(|ip| !now.contains(ip)).collect();
            return Err(StepError::new(
                format!(
                    "targets {missing:?} are still not registered in {tg} {}s after registering \
                     them",
                    READ_BACK_DEADLINE.as_secs()
                ),
                "run `xwizard resume <name>` to register them again",
            ));
        }
        self.change(|d| {
            d.step_mut(step.id).outputs =
                BTreeMap::from([("TargetIps".to_string(), ips.join(","))]);
        })?;
        self.info(
            step.id,
            format!("registered {} targets on port 443", ips.len()),
        );
        Ok(())
    }

    pub(super) async fn scope_endpoint_policy(
        &self,
        step: &Step,
        endpoint: &Source,
        api_arn: &Source,
    ) -> Result<(), StepError> {
        let endpoint_id = self.resolve(endpoint)?;
        let api_execute_arn = self.resolve(api_arn)?;
        let wanted = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": api_execute_arn,
            }]
        });
        let endpoints = Endpoints::new(self.sessions.of(step.role));
        endpoints
            .set_endpoint_policy(&endpoint_id, &wanted.to_string())
            .await?;
        let (applied, shown) = self
            .read_back(
                || endpoints.endpoint_policy(&endpoint_id),
                |shown: &Option<String>| {
                    shown
                        .as_deref()
                        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                        .is_some_and(|now| policy::equivalent(&now, &wanted))
                },
            )
            .await?;
        if !applied {
            return Err(StepError::new(
                format!(
                    "endpoint {endpoint_id} still shows another policy {}s after setting it: {}",
                    READ_BACK_DEADLINE.as_secs(),
                    shown.as_deref().unwrap_or("none")
                ),
                "check the endpoint's policy in the consumer account; `xwizard resume <name>` \
                 sets it again",
            ));
        }
        self.info(
            step.id,
            format!(
                "endpoint {endpoint_id} now allows only execute-api:Invoke on {api_execute_arn}"
            ),
        );
        Ok(())
    }
}
