"""PrivateLink across the two accounts behaves as AWS documents it."""

from __future__ import annotations

import ipaddress
import json

import pytest
from botocore.exceptions import ClientError
from conftest import CONSUMER, PRODUCER, wait_until


def _network(ec2, cidr: str, subnets: list[str]) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ids = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=block, AvailabilityZone=f"us-east-1{'abc'[i]}")["Subnet"]["SubnetId"]
        for i, block in enumerate(subnets)
    ]
    return vpc, ids


def _endpoint_service(sandbox, *, acceptance: bool, allow: list[str] | None) -> dict:
    ec2 = sandbox.client("ec2", "producer")
    _vpc, subnets = _network(ec2, "10.10.0.0/16", ["10.10.1.0/24", "10.10.2.0/24"])
    nlb = sandbox.client("elbv2", "producer").create_load_balancer(
        Name="svc-nlb", Type="network", Scheme="internal", Subnets=subnets)["LoadBalancers"][0]
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb["LoadBalancerArn"]], AcceptanceRequired=acceptance,
    )["ServiceConfiguration"]
    if allow:
        ec2.modify_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"], AddAllowedPrincipals=allow)
    return service


def _consumer_endpoint(sandbox, service_name: str, role: str = "consumer") -> dict:
    ec2 = sandbox.client("ec2", role)
    vpc, subnets = _network(ec2, "10.20.0.0/16", ["10.20.1.0/24", "10.20.2.0/26"])
    return ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=service_name, VpcEndpointType="Interface", SubnetIds=subnets,
    )["VpcEndpoint"]


def _endpoint_state(sandbox, endpoint_id: str, role: str = "consumer") -> str:
    ec2 = sandbox.client("ec2", role)
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["State"]


def _error_code(call) -> str:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"]


def test_pending_endpoint_accepted_by_producer_becomes_available(fresh):
    service = _endpoint_service(fresh, acceptance=True, allow=[f"arn:aws:iam::{CONSUMER}:root"])
    endpoint = _consumer_endpoint(fresh, service["ServiceName"])
    assert endpoint["State"] == "pendingAcceptance"

    producer = fresh.client("ec2", "producer")
    connections = producer.describe_vpc_endpoint_connections(
        Filters=[{"Name": "service-id", "Values": [service["ServiceId"]]},
                 {"Name": "vpc-endpoint-state", "Values": ["pendingAcceptance"]}],
    )["VpcEndpointConnections"]
    assert len(connections) == 1
    connection = connections[0]
    assert connection["VpcEndpointId"] == endpoint["VpcEndpointId"]
    assert connection["VpcEndpointOwner"] == CONSUMER
    assert connection["ServiceId"] == service["ServiceId"]
    assert connection["CreationTimestamp"]

    answer = producer.accept_vpc_endpoint_connections(
        ServiceId=service["ServiceId"], VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert answer.get("Unsuccessful", []) == []
    wait_until(lambda: _endpoint_state(fresh, endpoint["VpcEndpointId"]) == "available",
               what="the consumer's endpoint to become available")
    by_id = producer.describe_vpc_endpoint_connections(
        Filters=[{"Name": "vpc-endpoint-id", "Values": [endpoint["VpcEndpointId"]]}])
    assert by_id["VpcEndpointConnections"][0]["VpcEndpointState"] == "available"

    # Accepting again, or an endpoint that does not exist, is reported per item.
    again = producer.accept_vpc_endpoint_connections(
        ServiceId=service["ServiceId"], VpcEndpointIds=[endpoint["VpcEndpointId"], "vpce-0123456789abcdef0"])
    codes = {item["ResourceId"]: item["Error"]["Code"] for item in again["Unsuccessful"]}
    assert codes == {endpoint["VpcEndpointId"]: "IncorrectState",
                     "vpce-0123456789abcdef0": "InvalidVpcEndpointId.NotFound"}


def test_rejected_endpoint_is_rejected_in_the_consumer_view(fresh):
    service = _endpoint_service(fresh, acceptance=True, allow=[f"arn:aws:iam::{CONSUMER}:root"])
    endpoint = _consumer_endpoint(fresh, service["ServiceName"])
    producer = fresh.client("ec2", "producer")
    answer = producer.reject_vpc_endpoint_connections(
        ServiceId=service["ServiceId"], VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert answer.get("Unsuccessful", []) == []
    assert _endpoint_state(fresh, endpoint["VpcEndpointId"]) == "rejected"


def test_service_without_acceptance_makes_endpoint_available(fresh):
    service = _endpoint_service(fresh, acceptance=False, allow=["*"])
    endpoint = _consumer_endpoint(fresh, service["ServiceName"])
    assert endpoint["State"] in ("pending", "available")
    wait_until(lambda: _endpoint_state(fresh, endpoint["VpcEndpointId"]) == "available",
               what="the endpoint to become available")


def test_non_allowed_account_cannot_create_endpoint_or_see_the_service(fresh):
    service = _endpoint_service(fresh, acceptance=True, allow=["arn:aws:iam::333333333333:root"])
    consumer = fresh.client("ec2", "consumer")
    with pytest.raises(ClientError) as err:
        _consumer_endpoint(fresh, service["ServiceName"])
    assert err.value.response["Error"]["Code"] == "InvalidServiceName"
    assert err.value.response["Error"]["Message"] == (
        f"The Vpc Endpoint Service '{service['ServiceName']}' does not exist")
    assert _error_code(lambda: consumer.describe_vpc_endpoint_services(
        ServiceNames=[service["ServiceName"]])) == "InvalidServiceName"


def test_allowed_account_describes_the_service(fresh):
    service = _endpoint_service(fresh, acceptance=True, allow=[f"arn:aws:iam::{CONSUMER}:root"])
    consumer = fresh.client("ec2", "consumer")
    details = consumer.describe_vpc_endpoint_services(
        ServiceNames=[service["ServiceName"]])["ServiceDetails"]
    assert len(details) == 1
    detail = details[0]
    assert detail["Owner"] == PRODUCER
    assert detail["AcceptanceRequired"] is True
    assert detail["ServiceType"] == [{"ServiceType": "Interface"}]
    assert detail["ServiceId"] == service["ServiceId"]


def test_aws_service_endpoints_are_always_allowed(fresh):
    endpoint = _consumer_endpoint(fresh, "com.amazonaws.us-east-1.execute-api")
    wait_until(lambda: _endpoint_state(fresh, endpoint["VpcEndpointId"]) == "available",
               what="the execute-api endpoint to become available")


def test_unknown_endpoint_service_name_is_refused(fresh):
    with pytest.raises(ClientError) as err:
        _consumer_endpoint(fresh, "com.amazonaws.vpce.us-east-1.vpce-svc-0000000000000000")
    assert err.value.response["Error"]["Code"] == "InvalidServiceName"


def test_endpoint_enis_carry_addresses_of_their_subnets(fresh):
    endpoint = _consumer_endpoint(fresh, "com.amazonaws.us-east-1.execute-api")
    ec2 = fresh.client("ec2", "consumer")
    assert len(endpoint["NetworkInterfaceIds"]) == 2
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"]
    subnets = {s["SubnetId"]: s["CidrBlock"] for s in ec2.describe_subnets(SubnetIds=endpoint["SubnetIds"])["Subnets"]}
    assert {eni["SubnetId"] for eni in enis} == set(endpoint["SubnetIds"])
    for eni in enis:
        network = ipaddress.ip_network(subnets[eni["SubnetId"]])
        address = ipaddress.ip_address(eni["PrivateIpAddress"])
        assert address in network
        # AWS keeps the first four and the last address of a subnet for itself.
        assert int(network.network_address) + 4 <= int(address) < int(network.broadcast_address)
        assert eni["InterfaceType"] == "vpc_endpoint"
        assert endpoint["VpcEndpointId"] in eni["Description"]


def test_private_dns_name_verified_only_with_the_txt_record(fresh):
    service = _endpoint_service(fresh, acceptance=True, allow=[f"arn:aws:iam::{CONSUMER}:root"])
    ec2 = fresh.client("ec2", "producer")
    sid = service["ServiceId"]
    ec2.modify_vpc_endpoint_service_configuration(ServiceId=sid, PrivateDnsName="api.example.com")

    def dns_config():
        return ec2.describe_vpc_endpoint_service_configurations(
            ServiceIds=[sid])["ServiceConfigurations"][0]["PrivateDnsNameConfiguration"]

    config = dns_config()
    assert config["State"] == "pendingVerification"
    assert config["Type"] == "TXT" and config["Name"].startswith("_") and config["Value"].startswith("vpce:")

    # Without the record, verification fails.
    ec2.start_vpc_endpoint_service_private_dns_verification(ServiceId=sid)
    wait_until(lambda: dns_config()["State"] == "failed", what="verification to fail")

    # A TXT record with the wrong value does not help either.
    r53 = fresh.client("route53", "producer")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="zone-1")["HostedZone"]["Id"]

    def put_txt(value: str) -> None:
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {
                "Name": f"{config['Name']}.api.example.com", "Type": "TXT", "TTL": 300,
                "ResourceRecords": [{"Value": f'"{value}"'}]}}]})

    put_txt("vpce:not-the-token")
    ec2.start_vpc_endpoint_service_private_dns_verification(ServiceId=sid)
    wait_until(lambda: dns_config()["State"] == "failed", what="verification to fail again")

    put_txt(config["Value"])
    ec2.start_vpc_endpoint_service_private_dns_verification(ServiceId=sid)
    wait_until(lambda: dns_config()["State"] == "verified", what="verification to pass")
    consumer = fresh.client("ec2", "consumer")
    detail = consumer.describe_vpc_endpoint_services(ServiceNames=[service["ServiceName"]])["ServiceDetails"][0]
    assert detail["PrivateDnsName"] == "api.example.com"
    assert detail["PrivateDnsNameVerificationState"] == "verified"


def test_record_in_another_account_does_not_verify(fresh):
    service = _endpoint_service(fresh, acceptance=False, allow=None)
    ec2 = fresh.client("ec2", "producer")
    sid = service["ServiceId"]
    ec2.modify_vpc_endpoint_service_configuration(ServiceId=sid, PrivateDnsName="svc.example.org")
    config = ec2.describe_vpc_endpoint_service_configurations(
        ServiceIds=[sid])["ServiceConfigurations"][0]["PrivateDnsNameConfiguration"]
    r53 = fresh.client("route53", "consumer")
    zone = r53.create_hosted_zone(Name="example.org", CallerReference="zone-2")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": f"{config['Name']}.example.org", "Type": "TXT", "TTL": 300,
            "ResourceRecords": [{"Value": f'"{config["Value"]}"'}]}}]})
    ec2.start_vpc_endpoint_service_private_dns_verification(ServiceId=sid)
    wait_until(lambda: ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[sid])
               ["ServiceConfigurations"][0]["PrivateDnsNameConfiguration"]["State"] == "failed",
               what="verification to fail")


def test_service_with_live_connections_cannot_be_deleted(fresh):
    service = _endpoint_service(fresh, acceptance=True, allow=[f"arn:aws:iam::{CONSUMER}:root"])
    endpoint = _consumer_endpoint(fresh, service["ServiceName"])
    producer = fresh.client("ec2", "producer")
    refused = producer.delete_vpc_endpoint_service_configurations(ServiceIds=[service["ServiceId"]])
    assert refused["Unsuccessful"][0]["Error"]["Code"] == "ExistingVpcEndpointConnections"
    assert producer.describe_vpc_endpoint_service_configurations(
        ServiceIds=[service["ServiceId"]])["ServiceConfigurations"]

    producer.reject_vpc_endpoint_connections(
        ServiceId=service["ServiceId"], VpcEndpointIds=[endpoint["VpcEndpointId"]])
    done = producer.delete_vpc_endpoint_service_configurations(ServiceIds=[service["ServiceId"]])
    assert done.get("Unsuccessful", []) == []
    assert _error_code(lambda: producer.describe_vpc_endpoint_service_configurations(
        ServiceIds=[service["ServiceId"]])) == "InvalidVpcEndpointServiceId.NotFound"


def test_cloudformation_endpoint_follows_the_same_rules(fresh):
    service = _endpoint_service(fresh, acceptance=True, allow=[f"arn:aws:iam::{CONSUMER}:root"])
    ec2 = fresh.client("ec2", "consumer")
    vpc, subnets = _network(ec2, "10.30.0.0/16", ["10.30.1.0/24"])
    template = {
        "Resources": {
            "Endpoint": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {"VpcId": vpc, "ServiceName": service["ServiceName"],
                               "VpcEndpointType": "Interface", "SubnetIds": subnets},
            }
        }
    }
    cfn = fresh.client("cloudformation", "consumer")
    cfn.create_stack(StackName="consumer-endpoint", TemplateBody=json.dumps(template))

    def settled():
        status = cfn.describe_stacks(StackName="consumer-endpoint")["Stacks"][0]["StackStatus"]
        return status if not status.endswith("IN_PROGRESS") else None

    assert wait_until(settled, what="the stack to settle") == "CREATE_COMPLETE"
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert [e["State"] for e in endpoints] == ["pendingAcceptance"]
