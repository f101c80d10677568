//! EC2 interface endpoints and the load balancer targets in front of them.

use anyhow::{Result, bail};
use aws_sdk_elasticloadbalancingv2::types::TargetDescription;

use super::Session;
use super::error::explain;

pub struct Endpoints {
    ec2: aws_sdk_ec2::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
}

impl Endpoints {
    pub fn new(session: &Session) -> Self {
        Self {
            ec2: aws_sdk_ec2::Client::new(&session.config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&session.config),
        }
    }

    async fn describe(&self, endpoint_id: &str) -> Result<aws_sdk_ec2::types::VpcEndpoint> {
        let out = self
            .ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(endpoint_id)
            .send()
            .await
            .map_err(|e| explain(format!("cannot describe endpoint {endpoint_id}"), e))?;
        match out.vpc_endpoints().first() {
            Some(endpoint) => Ok(endpoint.clone()),
            None => bail!("endpoint {endpoint_id} does not exist"),
        }
    }

    /// The VPC the endpoint is in.
    pub async fn vpc_of(&self, endpoint_id: &str) -> Result<String> {
        Ok(self
            .describe(endpoint_id)
            .await?
            .vpc_id()
            .unwrap_or_default()
            .to_string())
    }

    /// The private IPv4 addresses of the endpoint's network interfaces (one per subnet).
    pub async fn endpoint_ips(&self, endpoint_id: &str) -> Result<Vec<String>> {
        let endpoint = self.describe(endpoint_id).await?;
        let enis = endpoint.network_interface_ids();
        if enis.is_empty() {
            bail!("endpoint {endpoint_id} has no network interfaces yet");
        }
        let out = self
            .ec2
            .describe_network_interfaces()
            .set_network_interface_ids(Some(enis.to_vec()))
            .send()
            .await
            .map_err(|e| {
                explain(
                    format!("cannot describe the interfaces of {endpoint_id}"),
                    e,
                )
            })?;
        let mut ips: Vec<String> = out
            .network_interfaces()
            .iter()
            .filter_map(|ni| ni.private_ip_address().map(str::to_string))
            .collect();
        ips.sort();
        Ok(ips)
    }

    /// The target group's registered target ids (IP addresses for an `ip` target group).
    pub async fn registered_targets(&self, target_group_arn: &str) -> Result<Vec<String>> {
        let out = self
            .elb
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| explain(format!("cannot read the targets of {target_group_arn}"), e))?;
        let mut ids: Vec<String> = out
            .target_health_descriptions()
            .iter()
            .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_string))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Registers each IP on `port`. Registering an already registered target is a no-op in
    /// ELBv2, so a resumed step may simply run again.
    pub async fn register_ip_targets(
        &self,
        target_group_arn: &str,
        ips: &[String],
        port: i32,
    ) -> Result<()> {
        let mut req = self
            .elb
            .register_targets()
            .target_group_arn(target_group_arn);
        for ip in ips {
            req = req.targets(TargetDescription::builder().id(ip).port(port).build());
        }
        req.send()
            .await
            .map_err(|e| explain(format!("cannot register targets in {target_group_arn}"), e))?;
        Ok(())
    }

    pub async fn endpoint_policy(&self, endpoint_id: &str) -> Result<Option<String>> {
        let endpoint = self.describe(endpoint_id).await?;
        Ok(endpoint.policy_document().map(str::to_string))
    }

    pub async fn set_endpoint_policy(&self, endpoint_id: &str, policy: &str) -> Result<()> {
        self.ec2
            .modify_vpc_endpoint()
            .vpc_endpoint_id(endpoint_id)
            .policy_document(policy)
            .send()
            .await
            .map_err(|e| {
                explain(
                    format!("cannot set the policy of endpoint {endpoint_id}"),
                    e,
                )
            })?;
        Ok(())
    }

    /// Whether any VPC, endpoint or subnet tagged for the deployment is still there.
    pub async fn leftovers(&self, tag_key: &str, tag_value: &str) -> Result<Vec<String>> {
        use aws_sdk_ec2::types::Filter;
        let filter = Filter::builder()
            .name(format!("tag:{tag_key}"))
            .values(tag_value)
            .build();
        let mut left = Vec::new();
        let vpcs = self
            .ec2
            .describe_vpcs()
            .filters(filter.clone())
            .send()
            .await
            .map_err(|e| explain("cannot list VPCs", e))?;
        left.extend(
            vpcs.vpcs()
                .iter()
                .filter_map(|v| v.vpc_id().map(|id| format!("VPC {id}"))),
        );
        let endpoints = self
            .ec2
            .describe_vpc_endpoints()
            .filters(filter)
            .send()
            .await
            .map_err(|e| explain("cannot list VPC endpoints", e))?;
        left.extend(
            endpoints
                .vpc_endpoints()
                .iter()
                .filter(|e| !matches!(e.state().map(|s| s.as_str()), Some("deleted" | "deleting")))
                .filter_map(|e| e.vpc_endpoint_id().map(|id| format!("VPC endpoint {id}"))),
        );
        Ok(left)
    }
}
