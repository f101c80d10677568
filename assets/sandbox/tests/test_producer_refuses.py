"""The producer refuses on its own: a call through an execute-api endpoint its policy does not
name gets the policy's explicit deny, and a wrong key gets its authorizer's Deny.

The consumer function here is the one Pattern 1's consumer-api template deploys (its inline
code, read from the template), run in the consumer VPC next to two execute-api endpoints: the
consumer's (private DNS, the only one the producer admits) and a probe endpoint (no private DNS).
"""

from __future__ import annotations

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import PRODUCER
from test_data_plane import (
    REGION,
    WIDGET,
    api_url,
    build_pattern1,
    call,
    python_function,
)
from test_lambda_runtime import invoke

TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "..", "templates", "pattern1",
                        "consumer-api.yaml")
POLICY_DENIAL = re.compile(
    r"User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
    rf"arn:aws:execute-api:{REGION}:{PRODUCER}:[a-z0-9]+/prod/GET/widgets with an explicit deny")
AUTHORIZER_DENIAL = "User is not authorized to access this resource with an explicit deny"


def consumer_function_code() -> str:
    """The ConsumerFunction's inline code, as the template holds it."""
    text = open(TEMPLATE).read()
    block = text.split("      Code:\n        ZipFile: |\n")[-1].split("\nOutputs:")[0]
    return "\n".join(line[10:] for line in block.splitlines()) + "\n"


def probe_endpoint(sandbox, net) -> dict:
    ec2 = sandbox.client("ec2", "consumer")
    return ec2.create_vpc_endpoint(
        VpcId=net.vpc_id, ServiceName=f"com.amazonaws.{REGION}.execute-api",
        VpcEndpointType="Interface", SubnetIds=net.subnet_ids,
        SecurityGroupIds=[net.security_group_id], PrivateDnsEnabled=False,
    )["VpcEndpoint"]


def deploy_consumer_function(sandbox, p1) -> str:
    net = p1.network
    return python_function(
        sandbox, "consumer", "consumer", consumer_function_code(),
        env={"API_URL": api_url(p1.producer_api), "API_ID": p1.producer_api,
             "API_KEY_SECRET_ARN": p1.secret_arn,
             "ENDPOINT_DNS_SUFFIX": f".execute-api.{REGION}.vpce.amazonaws.com"},
        vpc={"SubnetIds": net.subnet_ids, "SecurityGroupIds": [net.security_group_id]})


def message(answer: dict) -> str:
    return json.loads(answer["body"])["Message"]


def test_an_interface_endpoint_to_an_aws_service_is_named_as_aws_names_it(fresh):
    p1 = build_pattern1(fresh)
    probe = probe_endpoint(fresh, p1.network)
    names = [d["DnsName"] for d in probe["DnsEntries"]]
    regional = rf"{probe['VpcEndpointId']}-[a-z0-9]+\.execute-api\.{REGION}\.vpce\.amazonaws\.com"
    assert re.fullmatch(regional, names[0]), names
    zonal = [n for n in names[1:] if re.fullmatch(r"vpce-.*-us-east-1[ab]\.execute-api\..*", n)]
    assert len(zonal) == 2, names


def test_the_producer_refuses_a_call_through_another_endpoint_and_a_wrong_key(fresh):
    p1 = build_pattern1(fresh)
    probe = probe_endpoint(fresh, p1.network)
    fn = deploy_consumer_function(fresh, p1)
    dns_name = probe["DnsEntries"][0]["DnsName"]

    # Its usual call goes through the consumer's endpoint (private DNS) and is answered.
    usual = invoke(fresh, "consumer", fn)["body"]
    assert (usual["statusCode"], json.loads(usual["body"])) == (200, WIDGET), usual

    # The real key through the probe endpoint: the producer's policy refuses.
    other = invoke(fresh, "consumer", fn, {"probe": "other-endpoint",
                                           "endpoint_id": probe["VpcEndpointId"],
                                           "dns_name": dns_name})["body"]
    assert other["statusCode"] == 403, other
    assert POLICY_DENIAL.fullmatch(message(other)), other

    # A wrong key through the consumer's endpoint: the producer's authorizer refuses.
    wrong = invoke(fresh, "consumer", fn, {"probe": "wrong-key"})["body"]
    assert (wrong["statusCode"], message(wrong)) == (403, AUTHORIZER_DENIAL), wrong

    # Neither answer, nor any other, carries the key.
    from test_data_plane import API_KEY

    assert API_KEY not in json.dumps([usual, other, wrong])


def test_an_opened_producer_policy_lets_the_other_endpoint_in(fresh):
    p1 = build_pattern1(fresh)
    probe = probe_endpoint(fresh, p1.network)
    fn = deploy_consumer_function(fresh, p1)
    apigw = fresh.client("apigateway", "producer")
    opened = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
        "Resource": "execute-api:/*"}]}
    apigw.update_rest_api(restApiId=p1.producer_api, patchOperations=[
        {"op": "replace", "path": "/policy", "value": json.dumps(opened)}])
    apigw.create_deployment(restApiId=p1.producer_api, stageName="prod")
    other = invoke(fresh, "consumer", fn, {"probe": "other-endpoint",
                                           "endpoint_id": probe["VpcEndpointId"],
                                           "dns_name": probe["DnsEntries"][0]["DnsName"]})["body"]
    assert (other["statusCode"], json.loads(other["body"])) == (200, WIDGET), other


def test_the_endpoint_specific_api_name_leads_to_that_endpoint(fresh):
    p1 = build_pattern1(fresh)
    probe = probe_endpoint(fresh, p1.network)
    caller = """
import json, os, urllib.error, urllib.request

def handler(event, context):
    request = urllib.request.Request(event["url"], headers=event.get("headers") or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return {"statusCode": response.status, "body": response.read().decode()}
    except urllib.error.HTTPError as error:
        return {"statusCode": error.code, "body": error.read().decode()}
"""
    net = p1.network
    fn = python_function(fresh, "consumer", "caller", caller,
                         vpc={"SubnetIds": net.subnet_ids,
                              "SecurityGroupIds": [net.security_group_id]})
    from test_data_plane import API_KEY

    key = {"Authorization": API_KEY}
    host = f"{p1.producer_api}-{{}}.execute-api.{REGION}.amazonaws.com"
    through_probe = invoke(fresh, "consumer", fn, {
        "url": f"https://{host.format(probe['VpcEndpointId'])}/prod/widgets", "headers": key})
    assert through_probe["body"]["statusCode"] == 403
    assert POLICY_DENIAL.fullmatch(message(through_probe["body"]))
    through_consumer = invoke(fresh, "consumer", fn, {
        "url": f"https://{host.format(net.vpce_id)}/prod/widgets", "headers": key})
    assert through_consumer["body"]["statusCode"] == 200, through_consumer["body"]

    # An endpoint's own name without x-apigw-api-id names no API.
    bare = invoke(fresh, "consumer", fn, {
        "url": f"https://{probe['DnsEntries'][0]['DnsName']}/prod/widgets", "headers": key})
    assert (bare["body"]["statusCode"], json.loads(bare["body"]["body"])) == (
        403, {"message": "Forbidden"})


def test_the_function_probes_only_an_execute_api_endpoint_of_its_region(fresh):
    p1 = build_pattern1(fresh)
    probe = probe_endpoint(fresh, p1.network)
    fn = deploy_consumer_function(fresh, p1)
    good = probe["DnsEntries"][0]["DnsName"]
    for endpoint_id, dns_name in (
        ("vpce-1", good),                                   # not an endpoint id
        (probe["VpcEndpointId"], "example.com"),             # not an endpoint name
        (probe["VpcEndpointId"], good.replace(REGION, "eu-west-1")),  # another region
        ("vpce-0123456789abcdef0", good),                    # the name of another endpoint
        (probe["VpcEndpointId"], f"evil.com/{good}"),
    ):
        answer = invoke(fresh, "consumer", fn, {"probe": "other-endpoint",
                                                "endpoint_id": endpoint_id,
                                                "dns_name": dns_name})["body"]
        assert answer["statusCode"] == 400, (endpoint_id, dns_name, answer)


def test_a_host_outside_the_vpc_cannot_use_an_endpoint_name(fresh):
    p1 = build_pattern1(fresh)
    probe = probe_endpoint(fresh, p1.network)
    from test_data_plane import API_KEY

    answer = call(fresh, f"https://{probe['DnsEntries'][0]['DnsName']}/prod/widgets",
                  {"Authorization": API_KEY, "x-apigw-api-id": p1.producer_api})
    assert (answer.status, answer.json()) == (403, {"message": "Forbidden"})


def test_the_name_called_picks_the_endpoint_as_dns_in_the_vpc_would():
    import lambda_runtime

    endpoints = {
        "vpce-0aaa": {"names": ["vpce-0aaa-x1.execute-api.us-east-1.vpce.amazonaws.com"],
                      "private_dns": True},
        "vpce-0bbb": {"names": ["vpce-0bbb-y2.execute-api.us-east-1.vpce.amazonaws.com",
                                "vpce-0bbb-y2-us-east-1a.execute-api.us-east-1.vpce.amazonaws.com"],
                      "private_dns": False},
    }
    pick = lambda host: lambda_runtime.source_endpoint(host, endpoints)  # noqa: E731
    assert pick("abc123.execute-api.us-east-1.amazonaws.com") == "vpce-0aaa"
    assert pick("abc123-vpce-0bbb.execute-api.us-east-1.amazonaws.com") == "vpce-0bbb"
    assert pick("vpce-0bbb-y2.execute-api.us-east-1.vpce.amazonaws.com") == "vpce-0bbb"
    assert pick("VPCE-0BBB-Y2-US-EAST-1A.execute-api.us-east-1.vpce.amazonaws.com") == "vpce-0bbb"
    # Another VPC's endpoint, and names that are not API Gateway's: no endpoint of this VPC.
    assert pick("abc123-vpce-0ccc.execute-api.us-east-1.amazonaws.com") is None
    assert pick("vpce-0ccc-z3.execute-api.us-east-1.vpce.amazonaws.com") is None
    assert pick("secretsmanager.us-east-1.amazonaws.com") is None
    # Without private DNS in the VPC, an API's usual name is the public one.
    assert lambda_runtime.source_endpoint("abc123.execute-api.us-east-1.amazonaws.com",
                                          {"vpce-0bbb": endpoints["vpce-0bbb"]}) is None
