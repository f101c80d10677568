"""Pattern 2's three templates deployed on the sandbox the way the wizard deploys them, in two
accounts, then checked through the APIs a user would look at, updated, and deleted to nothing.

The steps follow PARITY.md's table: producer network -> upload the CA bundle (PutObject to the
versioned bucket, the version id passed on) -> producer API (hosted zone of the sandbox's own
domain xwizard.test, from the ready file) -> register the execute-api endpoint's addresses as
the ALB's targets -> verify the private DNS name -> consumer (its endpoint waits for acceptance).
Cleanup: consumer, then every object version and delete marker of both producer buckets, then
producer API, then producer network.
"""

from __future__ import annotations

import datetime
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import CONSUMER, PRODUCER, wait_until

TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "..", "templates", "pattern2")
NAME = "mtls-t1"  # the deployment, and the service's subdomain
REGION = "us-east-1"
SETTLED = {
    "CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
    "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
    "DELETE_COMPLETE", "DELETE_FAILED",
}


# --- certificates ------------------------------------------------------------------------------


def make_ca(common_name: str, is_ca: bool = True) -> tuple[bytes, Any, Any]:
    """(PEM, certificate, key) of a self-signed certificate; a CA unless told otherwise."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), cert, key


# --- stacks ------------------------------------------------------------------------------------


def stack_name(part: str) -> str:
    return f"xw-{NAME}-{part}"


def settled(cf: Any, name: str) -> dict[str, Any] | None:
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    return stack if stack["StackStatus"] in SETTLED else None


def failure_reasons(cf: Any, name: str) -> list[str]:
    events = cf.describe_stack_events(StackName=name)["StackEvents"]
    return [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
            if e["ResourceStatus"].endswith("FAILED")]


def create(sb: Any, role: str, part: str, template: str, parameters: dict[str, str],
           expect: str = "CREATE_COMPLETE") -> dict[str, Any]:
    cf = sb.client("cloudformation", role)
    with open(os.path.join(TEMPLATES, template)) as f:
        body = f.read()
    cf.create_stack(
        StackName=stack_name(part), TemplateBody=body,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Tags=[{"Key": "xwizard:deployment", "Value": NAME}],
    )
    stack = wait_until(lambda: settled(cf, stack_name(part)), what=f"{part} to settle")
    assert stack["StackStatus"] == expect, failure_reasons(cf, stack_name(part))
    return stack


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def physical_id(sb: Any, role: str, part: str, logical_id: str) -> str:
    cf = sb.client("cloudformation", role)
    return cf.describe_stack_resource(StackName=stack_name(part), LogicalResourceId=logical_id)[
        "StackResourceDetail"]["PhysicalResourceId"]


def delete(sb: Any, role: str, part: str, expect: str = "DELETE_COMPLETE") -> None:
    cf = sb.client("cloudformation", role)
    stack_id = cf.describe_stacks(StackName=stack_name(part))["Stacks"][0]["StackId"]
    cf.delete_stack(StackName=stack_id)
    stack = wait_until(lambda: settled(cf, stack_id), what=f"{part} to be deleted")
    assert stack["StackStatus"] == expect, failure_reasons(cf, stack_id)


def empty_bucket(s3: Any, bucket: str) -> None:
    """Every object version and delete marker, as the wizard's cleanup removes them."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


# --- what an account holds ---------------------------------------------------------------------


def inventory(sb: Any, role: str) -> set[str]:
    """Everything of the kinds the pattern makes, as 'kind id' strings."""
    found: set[str] = set()
    ec2 = sb.client("ec2", role)
    found |= {f"vpc {v['VpcId']}" for v in ec2.describe_vpcs()["Vpcs"]}
    found |= {f"subnet {s['SubnetId']}" for s in ec2.describe_subnets()["Subnets"]}
    found |= {f"security-group {g['GroupId']}" for g in ec2.describe_security_groups()["SecurityGroups"]}
    found |= {f"route-table {t['RouteTableId']}" for t in ec2.describe_route_tables()["RouteTables"]}
    found |= {f"eni {n['NetworkInterfaceId']}"
              for n in ec2.describe_network_interfaces()["NetworkInterfaces"]}
    found |= {f"endpoint {e['VpcEndpointId']}" for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
              if e["State"].lower() != "deleted"}
    found |= {f"endpoint-service {c['ServiceId']}" for c in
              ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]}
    found |= {f"flow-log {f['FlowLogId']}" for f in ec2.describe_flow_logs()["FlowLogs"]}
    found |= {f"instance {i['InstanceId']}" for r in ec2.describe_instances()["Reservations"]
              for i in r["Instances"] if i["State"]["Name"] != "terminated"}
    found |= {f"volume {v['VolumeId']}" for v in ec2.describe_volumes()["Volumes"]}
    elb = sb.client("elbv2", role)
    found |= {f"load-balancer {lb['LoadBalancerArn']}"
              for lb in elb.describe_load_balancers()["LoadBalancers"]}
    found |= {f"target-group {tg['TargetGroupArn']}"
              for tg in elb.describe_target_groups()["TargetGroups"]}
    found |= {f"trust-store {t['TrustStoreArn']}" for t in elb.describe_trust_stores()["TrustStores"]}
    found |= {f"bucket {b['Name']}" for b in sb.client("s3", role).list_buckets()["Buckets"]}
    iam = sb.client("iam", role)
    found |= {f"role {r['RoleName']}" for r in iam.list_roles()["Roles"]}
    found |= {f"instance-profile {p['InstanceProfileName']}"
              for p in iam.list_instance_profiles()["InstanceProfiles"]}
    found |= {f"function {f['FunctionName']}"
              for f in sb.client("lambda", role).list_functions()["Functions"]}
    found |= {f"log-group {g['logGroupName']}"
              for g in sb.client("logs", role).describe_log_groups()["logGroups"]}
    kms = sb.client("kms", role)
    # AWS managed keys (alias/aws/ebs, made for the instance's encrypted volume) are the
    # account's, made on first use and never deleted: not of any one run.
    aws_managed = {a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]
                   if a["AliasName"].startswith("alias/aws/")}
    for key in kms.list_keys()["Keys"]:
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta["KeyState"] != "PendingDeletion" and key["KeyId"] not in aws_managed:
            found.add(f"kms-key {key['KeyId']} {meta['KeyManager']} {meta.get('Description', '')}")
    found |= {f"kms-alias {a['AliasName']}" for a in kms.list_aliases()["Aliases"]
              if not a["AliasName"].startswith("alias/aws/")}
    found |= {f"secret {s['ARN']}"
              for s in sb.client("secretsmanager", role).list_secrets()["SecretList"]}
    apigw = sb.client("apigateway", role)
    found |= {f"rest-api {a['id']}" for a in apigw.get_rest_apis()["items"]}
    found |= {f"domain-name {d['domainName']}+{d.get('domainNameId', '')}"
              for d in apigw.get_domain_names(resourceOwner="SELF")["items"]}
    found |= {f"access-association {a['domainNameAccessAssociationArn']}" for a in
              apigw.get_domain_name_access_associations(resourceOwner="SELF")["items"]}
    found |= {f"certificate {c['CertificateArn']}"
              for c in sb.client("acm", role).list_certificates()["CertificateSummaryList"]}
    route53 = sb.client("route53", role)
    for zone in route53.list_hosted_zones()["HostedZones"]:
        zone_id = zone["Id"].split("/")[-1]
        found.add(f"hosted-zone {zone_id}")
        for record in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]:
            found.add(f"record {zone_id} {record['Type']} {record['Name'].rstrip('.')}")
    return found


# --- the deployment ----------------------------------------------------------------------------


@dataclass
class Deployment:
    sb: Any
    ca_pem: bytes
    ca: tuple[Any, Any]  # the trust store's CA: (certificate, key), to issue client certificates
    bundle_version: str
    zone_id: str
    before: dict[str, set[str]]
    # The endpoint service's PrivateDnsNameConfiguration before the wizard started verification.
    dns_before_verification: dict[str, str] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    network: dict[str, str] = field(default_factory=dict)
    api: dict[str, str] = field(default_factory=dict)
    consumer: dict[str, str] = field(default_factory=dict)
    consumer_stack: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return f"{NAME}.{self.sb.info['hosted_zone']['name']}"


def deploy(sb: Any) -> Deployment:
    zone = sb.info["hosted_zone"]
    before = {role: inventory(sb, role) for role in ("producer", "consumer")}
    network = outputs(create(sb, "producer", "producer-network", "producer-network.yaml", {
        "DeploymentName": NAME, "ConsumerAccountId": CONSUMER}))
    ca_pem, ca_cert, ca_key = make_ca("xwizard test CA")
    upload = sb.client("s3", "producer").put_object(
        Bucket=network["TrustBundleBucketName"], Key="ca/bundle.pem", Body=ca_pem)
    api = outputs(create(sb, "producer", "producer-api", "producer-api.yaml", {
        "DeploymentName": NAME, "ConsumerAccountId": CONSUMER, "Subdomain": NAME,
        "DomainName": zone["name"], "HostedZoneId": zone["id"],
        "VpcId": network["VpcId"], "PrivateSubnetIds": network["PrivateSubnetIds"],
        "ExecuteApiEndpointId": network["ExecuteApiEndpointId"],
        "AlbSecurityGroupId": network["AlbSecurityGroupId"],
        "NlbSecurityGroupId": network["NlbSecurityGroupId"],
        "LogsBucketName": network["LogsBucketName"],
        "TrustBundleBucketName": network["TrustBundleBucketName"],
        "TrustBundleKey": "ca/bundle.pem", "TrustBundleVersion": upload["VersionId"],
        "ApiKeySecretArn": network["ApiKeySecretArn"], "ApiKeyKmsKeyArn": network["ApiKeyKmsKeyArn"],
        "ExistingApiGatewayLoggingRoleArn": "", "ApiGatewayLoggingRoleToSet": "",
    }))
    targets = register_targets(sb, network, api)
    dns = verify_private_dns(sb, api)
    consumer_stack = create(sb, "consumer", "consumer", "consumer.yaml", {
        "DeploymentName": NAME, "ProducerAccountId": PRODUCER,
        "EndpointServiceName": api["EndpointServiceName"],
        "ApiKeySecretArn": network["ApiKeySecretArn"], "ApiKeyKmsKeyArn": network["ApiKeyKmsKeyArn"],
    })
    return Deployment(sb, ca_pem, (ca_cert, ca_key), upload["VersionId"], zone["id"], before, dns,
                      targets, network,
                      api, outputs(consumer_stack), consumer_stack)


def register_targets(sb: Any, network: dict[str, str], api: dict[str, str]) -> list[str]:
    """The wizard's step: the execute-api endpoint's ENI addresses become the ALB's targets."""
    ec2 = sb.client("ec2", "producer")
    endpoint = ec2.describe_vpc_endpoints(VpcEndpointIds=[network["ExecuteApiEndpointId"]])[
        "VpcEndpoints"][0]
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])[
        "NetworkInterfaces"]
    ips = sorted(eni["PrivateIpAddress"] for eni in enis)
    sb.client("elbv2", "producer").register_targets(
        TargetGroupArn=api["ApiTargetGroupArn"], Targets=[{"Id": ip, "Port": 443} for ip in ips])
    return ips


def verify_private_dns(sb: Any, api: dict[str, str]) -> dict[str, str]:
    """The wizard's step: start verification, wait for `verified`; returns the state before."""
    ec2 = sb.client("ec2", "producer")
    service_id = api["EndpointServiceId"]

    def configuration() -> dict[str, str]:
        return ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[service_id])[
            "ServiceConfigurations"][0]["PrivateDnsNameConfiguration"]

    before = configuration()
    ec2.start_vpc_endpoint_service_private_dns_verification(ServiceId=service_id)
    wait_until(lambda: configuration()["State"] == "verified",
               what="the private DNS name to be verified")
    return before


@pytest.fixture(scope="module")
def p2(sandbox):
    sandbox.control("reset", {})
    yield deploy(sandbox)
    sandbox.control("reset", {})


# --- what the stacks made ----------------------------------------------------------------------


def test_the_ready_file_names_the_sandbox_domain(sandbox):
    zone = sandbox.info["hosted_zone"]
    assert (zone["name"], zone["account"]) == ("xwizard.test", PRODUCER)
    route53 = sandbox.client("route53", "producer")
    found = route53.get_hosted_zone(Id=zone["id"])["HostedZone"]
    assert found["Name"] == "xwizard.test." and found["Config"]["PrivateZone"] is False
    listed = route53.list_hosted_zones_by_name(DNSName="xwizard.test")["HostedZones"]
    assert listed[0]["Id"].split("/")[-1] == zone["id"]


def test_the_endpoint_service_admits_only_the_consumer_and_asks(p2):
    ec2 = p2.sb.client("ec2", "producer")
    service_id = p2.api["EndpointServiceId"]
    config = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[service_id])[
        "ServiceConfigurations"][0]
    assert config["AcceptanceRequired"] is True
    assert config["ServiceName"] == p2.api["EndpointServiceName"]
    principals = ec2.describe_vpc_endpoint_service_permissions(ServiceId=service_id)[
        "AllowedPrincipals"]
    assert [p["Principal"] for p in principals] == [f"arn:aws:iam::{CONSUMER}:root"]
    nlb = p2.sb.client("elbv2", "producer").describe_load_balancers(
        LoadBalancerArns=config["NetworkLoadBalancerArns"])["LoadBalancers"][0]
    assert (nlb["Type"], nlb["Scheme"]) == ("network", "internal")
    assert nlb["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"


def test_the_private_dns_name_waits_for_the_stacks_txt_record(p2):
    ec2 = p2.sb.client("ec2", "producer")
    service_id = p2.api["EndpointServiceId"]
    config = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[service_id])[
        "ServiceConfigurations"][0]
    assert config["PrivateDnsName"] == p2.host
    # As the stack left it, and after the wizard's verification found the stack's record.
    dns = p2.dns_before_verification
    assert (dns["State"], dns["Type"]) == ("pendingVerification", "TXT")
    assert config["PrivateDnsNameConfiguration"] == {**dns, "State": "verified"}
    record_name = physical_id(p2.sb, "producer", "producer-api", "PrivateDnsVerificationRecord")
    assert record_name == f"{dns['Name']}.xwizard.test"
    records = p2.sb.client("route53", "producer").list_resource_record_sets(
        HostedZoneId=p2.zone_id, StartRecordName=record_name, StartRecordType="TXT",
        MaxItems="1")["ResourceRecordSets"]
    assert records[0]["Name"].rstrip(".") == record_name
    assert records[0]["ResourceRecords"] == [{"Value": f'"{dns["Value"]}"'}]


def test_the_trust_store_holds_the_uploaded_bundle(p2):
    elb = p2.sb.client("elbv2", "producer")
    store = elb.describe_trust_stores(Names=[f"{NAME}-ca"])["TrustStores"][0]
    assert store["TrustStoreArn"] == p2.api["TrustStoreArn"]
    assert (store["Status"], store["NumberOfCaCertificates"]) == ("ACTIVE", 1)
    with pytest.raises(ClientError) as missing:
        elb.describe_trust_stores(Names=["no-such-store"])
    assert missing.value.response["Error"]["Code"] == "TrustStoreNotFound"


def test_the_alb_verifies_client_certificates_with_the_trust_store(p2):
    elb = p2.sb.client("elbv2", "producer")
    alb = elb.describe_load_balancers(Names=[f"{NAME}-alb"])["LoadBalancers"][0]
    assert (alb["Type"], alb["Scheme"]) == ("application", "internal")
    listeners = {l["Port"]: l for l in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])[
        "Listeners"]}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["MutualAuthentication"]["Mode"] == "verify"
    assert https["MutualAuthentication"]["TrustStoreArn"] == p2.api["TrustStoreArn"]
    certificate_arn = physical_id(p2.sb, "producer", "producer-api", "Certificate")
    assert [c["CertificateArn"] for c in https["Certificates"]] == [certificate_arn]
    rules = elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"]
    host_rule = next(r for r in rules if not r["IsDefault"])
    assert host_rule["Conditions"][0]["HostHeaderConfig"]["Values"] == [p2.host]
    assert host_rule["Actions"][0]["TargetGroupArn"] == p2.api["ApiTargetGroupArn"]
    targets = elb.describe_target_health(TargetGroupArn=p2.api["ApiTargetGroupArn"])[
        "TargetHealthDescriptions"]
    assert sorted(t["Target"]["Id"] for t in targets) == p2.targets and len(p2.targets) == 2
    assert listeners[80]["Protocol"] == "HTTP"


def test_the_nlb_forwards_to_the_alb(p2):
    elb = p2.sb.client("elbv2", "producer")
    alb = elb.describe_load_balancers(Names=[f"{NAME}-alb"])["LoadBalancers"][0]
    nlb = elb.describe_load_balancers(Names=[f"{NAME}-nlb"])["LoadBalancers"][0]
    listener = elb.describe_listeners(LoadBalancerArn=nlb["LoadBalancerArn"])["Listeners"][0]
    assert (listener["Port"], listener["Protocol"]) == (443, "TCP")
    group_arn = listener["DefaultActions"][0]["TargetGroupArn"]
    group = elb.describe_target_groups(TargetGroupArns=[group_arn])["TargetGroups"][0]
    assert (group["TargetType"], group["Protocol"], group["Port"]) == ("alb", "TCP", 443)
    targets = elb.describe_target_health(TargetGroupArn=group_arn)["TargetHealthDescriptions"]
    assert [(t["Target"]["Id"], t["Target"]["Port"]) for t in targets] == [
        (alb["LoadBalancerArn"], 443)]


def test_the_certificate_is_issued_once_its_validation_record_exists(p2):
    acm = p2.sb.client("acm", "producer")
    route53 = p2.sb.client("route53", "producer")
    arn = physical_id(p2.sb, "producer", "producer-api", "Certificate")
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert (cert["DomainName"], cert["Status"]) == (p2.host, "ISSUED")
    validation = cert["DomainValidationOptions"][0]["ResourceRecord"]
    records = route53.list_resource_record_sets(HostedZoneId=p2.zone_id)["ResourceRecordSets"]
    assert {"Name": validation["Name"], "Value": validation["Value"]} in [
        {"Name": r["Name"], "Value": r["ResourceRecords"][0]["Value"]} for r in records
        if r["Type"] == "CNAME"]
    # A certificate nobody validates stays pending; the CNAME issues it.
    other = acm.request_certificate(DomainName=f"other-{NAME}.xwizard.test", ValidationMethod="DNS")[
        "CertificateArn"]
    pending = acm.describe_certificate(CertificateArn=other)["Certificate"]
    assert pending["Status"] == "PENDING_VALIDATION"
    record = pending["DomainValidationOptions"][0]["ResourceRecord"]
    record_set = {"Name": record["Name"], "Type": "CNAME", "TTL": 300,
                  "ResourceRecords": [{"Value": record["Value"]}]}
    route53.change_resource_record_sets(HostedZoneId=p2.zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": record_set}]})
    try:
        assert acm.describe_certificate(CertificateArn=other)["Certificate"]["Status"] == "ISSUED"
    finally:
        acm.delete_certificate(CertificateArn=other)
        route53.change_resource_record_sets(HostedZoneId=p2.zone_id, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": record_set}]})


def test_the_private_custom_domain_name_is_readable_through_api_gateway(p2):
    apigw = p2.sb.client("apigateway", "producer")
    arn = physical_id(p2.sb, "producer", "producer-api", "PrivateDomainName")
    listed = [d for d in apigw.get_domain_names(resourceOwner="SELF")["items"]
              if d.get("domainNameArn") == arn]
    assert len(listed) == 1
    domain_id = listed[0]["domainNameId"]
    domain = apigw.get_domain_name(domainName=p2.host, domainNameId=domain_id)
    assert domain["endpointConfiguration"]["types"] == ["PRIVATE"]
    assert domain["certificateArn"] == physical_id(p2.sb, "producer", "producer-api", "Certificate")
    assert domain["securityPolicy"] == "TLS_1_2" and domain["domainNameStatus"] == "AVAILABLE"
    assert p2.network["ExecuteApiEndpointId"] in domain["policy"]
    mappings = apigw.get_base_path_mappings(domainName=p2.host, domainNameId=domain_id)["items"]
    assert [(m["basePath"], m["restApiId"], m["stage"]) for m in mappings] == [
        ("(none)", p2.api["ApiId"], "prod")]
    associations = apigw.get_domain_name_access_associations(resourceOwner="SELF")["items"]
    assert [(a["domainNameArn"], a["accessAssociationSourceType"], a["accessAssociationSource"])
            for a in associations] == [(arn, "VPCE", p2.network["ExecuteApiEndpointId"])]
    assert associations[0]["domainNameAccessAssociationArn"] == physical_id(
        p2.sb, "producer", "producer-api", "DomainNameAccessAssociation")
    with pytest.raises(ClientError) as missing:
        apigw.get_domain_name(domainName=p2.host, domainNameId="nosuchid")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"


def test_the_consumer_endpoint_waits_for_acceptance(p2):
    endpoint_id = p2.consumer["ServiceEndpointId"]
    endpoint = p2.sb.client("ec2", "consumer").describe_vpc_endpoints(
        VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]
    assert endpoint["State"] == "pendingAcceptance"
    assert endpoint["ServiceName"] == p2.api["EndpointServiceName"]
    connections = p2.sb.client("ec2", "producer").describe_vpc_endpoint_connections(
        Filters=[{"Name": "service-id", "Values": [p2.api["EndpointServiceId"]]}])[
        "VpcEndpointConnections"]
    assert [(c["VpcEndpointId"], c["VpcEndpointOwner"], c["VpcEndpointState"]) for c in connections] \
        == [(endpoint_id, CONSUMER, "pendingAcceptance")]


def test_the_instance_runs_with_its_profile_from_the_public_ami_parameter(p2):
    ec2 = p2.sb.client("ec2", "consumer")
    instance = ec2.describe_instances(InstanceIds=[p2.consumer["InstanceId"]])["Reservations"][0][
        "Instances"][0]
    assert instance["State"]["Name"] == "running"
    profile_name = physical_id(p2.sb, "consumer", "consumer", "InstanceProfile")
    assert instance["IamInstanceProfile"]["Arn"] == \
        f"arn:aws:iam::{CONSUMER}:instance-profile/{profile_name}"
    profile = p2.sb.client("iam", "consumer").get_instance_profile(InstanceProfileName=profile_name)
    assert [r["Arn"] for r in profile["InstanceProfile"]["Roles"]] == [p2.consumer["InstanceRoleArn"]]
    assert instance["VpcId"] == p2.consumer["VpcId"] and "PublicIpAddress" not in instance
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    group = physical_id(p2.sb, "consumer", "consumer", "InstanceSecurityGroup")
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group]
    # CloudFormation resolved the public SSM parameter in the consumer account.
    ami = p2.sb.client("ssm", "consumer").get_parameter(
        Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]
    assert instance["ImageId"] == ami["Value"]
    shown = {p["ParameterKey"]: p for p in p2.consumer_stack["Parameters"]}["LatestAmiId"]
    assert shown["ParameterValue"] == ami["Name"] and shown["ResolvedValue"] == ami["Value"]


# --- refusals ----------------------------------------------------------------------------------


def test_parameters_that_break_a_constraint_or_name_nothing_are_refused(p2):
    cf = p2.sb.client("cloudformation", "producer")
    with open(os.path.join(TEMPLATES, "producer-api.yaml")) as f:
        body = f.read()
    api_parameters = {p["ParameterKey"]: p["ParameterValue"] for p in cf.describe_stacks(
        StackName=stack_name("producer-api"))["Stacks"][0]["Parameters"]}

    def refusal(**changes: str) -> str:
        parameters = {**api_parameters, **changes}
        with pytest.raises(ClientError) as refused:
            cf.create_stack(StackName=f"refused-{uuid.uuid4().hex[:6]}", TemplateBody=body,
                            Capabilities=["CAPABILITY_NAMED_IAM"],
                            Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                        for k, v in parameters.items()])
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        return refused.value.response["Error"]["Message"]

    assert refusal(TrustBundleVersion="") == \
        "Parameter 'TrustBundleVersion' must contain at least 1 characters"
    assert refusal(HostedZoneId="Z0NOSUCHZONE") == (
        "Parameter validation failed: parameter value Z0NOSUCHZONE for parameter name "
        "HostedZoneId does not exist")
    assert refusal(Subdomain="Not_A_Label").startswith("Parameter 'Subdomain' must match pattern ")


def _trust_store_stack(sb: Any, bucket: str, key: str, version: str | None = None) -> str:
    cf = sb.client("cloudformation", "producer")
    props = {"Name": f"t-{uuid.uuid4().hex[:8]}", "CaCertificatesBundleS3Bucket": bucket,
             "CaCertificatesBundleS3Key": key}
    if version:
        props["CaCertificatesBundleS3ObjectVersion"] = version
    name = f"ts-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {"Store": {
        "Type": "AWS::ElasticLoadBalancingV2::TrustStore", "Properties": props}}}))
    stack = wait_until(lambda: settled(cf, name), what="the trust store stack")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    return " ".join(failure_reasons(cf, name))


def test_a_trust_store_refuses_a_placeholder_or_a_certificate_that_is_no_ca(p2):
    s3 = p2.sb.client("s3", "producer")
    bucket = p2.network["TrustBundleBucketName"]
    placeholder = s3.put_object(Bucket=bucket, Key="refused/placeholder.pem",
                                Body=b"# the CA bundle goes here\n")["VersionId"]
    leaf_pem, _, _ = make_ca("not a CA", is_ca=False)
    leaf = s3.put_object(Bucket=bucket, Key="refused/leaf.pem", Body=leaf_pem)["VersionId"]
    invalid = "The specified ca certificate bundle is in an invalid format, or corrupt."
    assert invalid in _trust_store_stack(p2.sb, bucket, "refused/placeholder.pem", placeholder)
    assert invalid in _trust_store_stack(p2.sb, bucket, "refused/leaf.pem", leaf)
    missing = _trust_store_stack(p2.sb, bucket, "ca/bundle.pem", "no-such-version")
    assert "The specified ca certificate bundle does not exist." in missing


# --- update ------------------------------------------------------------------------------------


def test_a_new_bundle_version_updates_the_trust_store_in_place(p2):
    s3 = p2.sb.client("s3", "producer")
    second, _, _ = make_ca("xwizard second CA")
    version = s3.put_object(Bucket=p2.network["TrustBundleBucketName"], Key="ca/bundle.pem",
                            Body=p2.ca_pem + second)["VersionId"]
    assert version != p2.bundle_version
    cf = p2.sb.client("cloudformation", "producer")
    stack = cf.describe_stacks(StackName=stack_name("producer-api"))["Stacks"][0]
    parameters = [{"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
                  for p in stack["Parameters"] if p["ParameterKey"] != "TrustBundleVersion"]
    parameters.append({"ParameterKey": "TrustBundleVersion", "ParameterValue": version})
    cf.update_stack(StackName=stack_name("producer-api"), UsePreviousTemplate=True,
                    Parameters=parameters, Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    updated = wait_until(lambda: settled(cf, stack_name("producer-api")), what="the update")
    assert updated["StackStatus"] == "UPDATE_COMPLETE", failure_reasons(cf, stack_name("producer-api"))
    store = p2.sb.client("elbv2", "producer").describe_trust_stores(
        TrustStoreArns=[p2.api["TrustStoreArn"]])["TrustStores"][0]
    assert store["NumberOfCaCertificates"] == 2
    assert outputs(updated)["TrustStoreArn"] == p2.api["TrustStoreArn"]


# --- cleanup -----------------------------------------------------------------------------------


def test_a_bucket_with_versions_holds_its_stack_until_emptied(p2):
    delete(p2.sb, "consumer", "consumer")
    # The trust-bundle bucket holds versions (and, after this, a delete marker) of the bundle.
    s3 = p2.sb.client("s3", "producer")
    s3.delete_object(Bucket=p2.network["TrustBundleBucketName"], Key="ca/bundle.pem")
    delete(p2.sb, "producer", "producer-api")
    cf = p2.sb.client("cloudformation", "producer")
    stack_id = cf.describe_stacks(StackName=stack_name("producer-network"))["Stacks"][0]["StackId"]
    cf.delete_stack(StackName=stack_id)
    stack = wait_until(lambda: settled(cf, stack_id), what="the refused deletion")
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert any("You must delete all versions in the bucket" in r
               for r in failure_reasons(cf, stack_id))


def test_deleting_the_emptied_stacks_leaves_nothing_of_the_run(p2):
    s3 = p2.sb.client("s3", "producer")
    # The refused deletion already took the empty log bucket, as AWS does: only the
    # trust-bundle bucket is left to empty.
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert existing & {p2.network["TrustBundleBucketName"], p2.network["LogsBucketName"]} == {
        p2.network["TrustBundleBucketName"]}
    empty_bucket(s3, p2.network["TrustBundleBucketName"])
    listing = s3.list_object_versions(Bucket=p2.network["TrustBundleBucketName"])
    assert "Versions" not in listing and "DeleteMarkers" not in listing
    delete(p2.sb, "producer", "producer-network")
    left = {role: inventory(p2.sb, role) - p2.before[role] for role in ("producer", "consumer")}
    assert left["consumer"] == set()
    # Kept on purpose or by AWS's own behaviour: the API Gateway logging role (DeletionPolicy
    # Retain, as in Pattern 1) and ACM's validation CNAME, which CloudFormation leaves in the zone.
    kept_role = {x for x in left["producer"] if x.startswith("role ")}
    assert [x.split(" ")[1].startswith(f"{stack_name('producer-api')}-ApiGatewayCloudWatchRole")
            for x in kept_role] == [True], kept_role
    cname = {x for x in left["producer"] if x.startswith(f"record {p2.zone_id} CNAME ")}
    assert [x.endswith(f".{p2.host}") for x in cname] == [True], cname
    assert left["producer"] - kept_role - cname == set()
    stacks = p2.sb.client("cloudformation", "producer").list_stacks(
        StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_FAILED"])["StackSummaries"]
    assert stacks == []

