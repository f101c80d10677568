"""The local data plane plays Pattern 1 end to end from what the emulator holds.

The Pattern 1 shape is built with plain boto3 calls in both accounts (`build_pattern1`), then
called over HTTPS the way `curl --resolve <host>:443:127.0.0.1` would: TLS to the data plane's
port, SNI and Host naming the API, the sandbox CA as the only trust anchor.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import ssl
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conftest import CONSUMER, DEADLINE, PRODUCER, wait_until

REGION = "us-east-1"
WIDGET = {"id": "1", "value": "4.99"}
API_KEY = "Zq8rT2mVx4Lk9Pw3Nc7Hs5Jd1Fb6Gy0A"  # a test fixture, 32 chars, no punctuation

AUTHORIZER_CODE = """
import os
import boto3

def handler(event, context):
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["API_KEY"])
    effect = "Allow" if event.get("authorizationToken") == secret["SecretString"] else "Deny"
    return {
        "principalId": "user",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect,
                           "Resource": event["methodArn"]}],
        },
    }
"""

WIDGET_CODE = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"id": "1", "value": "4.99"})}
"""


# ------------------------------------------------------------------ building Pattern 1


def zip_code(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", source)
    return buf.getvalue()


def lambda_role(sandbox, role: str, name: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    iam = sandbox.client("iam", role)
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def python_function(sandbox, role: str, name: str, code: str, env: dict | None = None,
                    vpc: dict | None = None, timeout: int = int(DEADLINE)) -> str:
    kwargs: dict[str, Any] = {}
    if vpc:
        kwargs["VpcConfig"] = vpc
    fn = sandbox.client("lambda", role).create_function(
        FunctionName=name, Runtime="python3.12", Handler="index.handler",
        Role=lambda_role(sandbox, role, f"{name}-role"), Code={"ZipFile": zip_code(code)},
        Environment={"Variables": env or {}}, Timeout=timeout, **kwargs,
    )
    return fn["FunctionArn"]


def allow_apigateway(sandbox, role: str, function_arn: str, account: str, api_id: str) -> None:
    sandbox.client("lambda", role).add_permission(
        FunctionName=function_arn, StatementId=f"apigw-{api_id}", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{account}:{api_id}/*",
    )


def invocation_uri(function_arn: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def consumer_secret(sandbox) -> str:
    """The API key secret, under a customer managed key, readable by the producer account."""
    kms = sandbox.client("kms", "consumer")
    root = "arn:aws:iam::{}:root"
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root.format(CONSUMER)}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": root.format(PRODUCER)},
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
    ]}
    key = kms.create_key(Policy=json.dumps(key_policy))["KeyMetadata"]["Arn"]
    sm = sandbox.client("secretsmanager", "consumer")
    arn = sm.create_secret(Name="api-key", SecretString=API_KEY, KmsKeyId=key)["ARN"]
    sm.put_resource_policy(SecretId=arn, ResourcePolicy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": root.format(PRODUCER)},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    return arn


@dataclass
class Network:
    vpc_id: str
    subnet_ids: list[str]
    security_group_id: str
    vpce_id: str
    nlb_arn: str = ""
    vpc_link_id: str = ""


def consumer_network(sandbox, name: str, cidr: str) -> Network:
    """VPC, two subnets, the execute-api interface endpoint (private DNS on)."""
    ec2 = sandbox.client("ec2", "consumer")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName=f"{name}-endpoint", Description="endpoint",
                                   VpcId=vpc)["GroupId"]
    vpce = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.execute-api", VpcEndpointType="Interface",
        SubnetIds=subnets, SecurityGroupIds=[sg], PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]
    return Network(vpc, subnets, sg, vpce)


def endpoint_ips(sandbox, vpce_id: str) -> list[str]:
    ec2 = sandbox.client("ec2", "consumer")
    endpoint = ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce_id])["VpcEndpoints"][0]
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])
    return [eni["PrivateIpAddress"] for eni in enis["NetworkInterfaces"]]


def nlb_to_endpoint(sandbox, net: Network, name: str, register: bool = True) -> None:
    """Internal NLB, TCP 443 → IP target group whose targets are the endpoint's ENI IPs."""
    elb = sandbox.client("elbv2", "consumer")
    net.nlb_arn = elb.create_load_balancer(
        Name=f"{name}-nlb", Subnets=net.subnet_ids, Scheme="internal", Type="network",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(
        Name=f"{name}-tg", Protocol="TCP", Port=443, VpcId=net.vpc_id, TargetType="ip",
        HealthCheckProtocol="HTTPS", HealthCheckPath="/ping",
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=net.nlb_arn, Protocol="TCP", Port=443,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    if register:
        elb.register_targets(TargetGroupArn=group, Targets=[
            {"Id": ip, "Port": 443} for ip in endpoint_ips(sandbox, net.vpce_id)])
    apigw = sandbox.client("apigateway", "consumer")
    net.vpc_link_id = apigw.create_vpc_link(name=f"{name}-link", targetArns=[net.nlb_arn])["id"]


def private_api_policy(vpce_id: str) -> str:
    """The producer's policy: allow all, deny every source endpoint but the consumer's."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce_id}}},
    ]})


def token_authorizer(sandbox, role: str, account: str, api_id: str, function_arn: str) -> str:
    apigw = sandbox.client("apigateway", role)
    authorizer = apigw.create_authorizer(
        restApiId=api_id, name="Authorizer", type="TOKEN",
        authorizerUri=invocation_uri(function_arn),
        identitySource="method.request.header.Authorization",
    )["id"]
    sandbox.client("lambda", role).add_permission(
        FunctionName=function_arn, StatementId=f"authorizer-{api_id}",
        Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{account}:{api_id}/authorizers/{authorizer}",
    )
    return authorizer


def producer_api(sandbox, vpce_id: str, secret_arn: str, authorized: bool = True) -> str:
    """Private REST API, GET /widgets → widget Lambda, TOKEN authorizer on the consumer's secret."""
    apigw = sandbox.client("apigateway", "producer")
    api = apigw.create_rest_api(name="ProducerApi", endpointConfiguration={"types": ["PRIVATE"]},
                                policy=private_api_policy(vpce_id))["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    widgets = apigw.create_resource(restApiId=api, parentId=root, pathPart="widgets")["id"]
    widget_fn = python_function(sandbox, "producer", "ProducerApiFunction", WIDGET_CODE)
    allow_apigateway(sandbox, "producer", widget_fn, PRODUCER, api)
    method: dict[str, Any] = {"authorizationType": "NONE"}
    if authorized:
        auth_fn = python_function(sandbox, "producer", "ProducerAuthorizer", AUTHORIZER_CODE,
                                  env={"API_KEY": secret_arn})
        method = {"authorizationType": "CUSTOM",
                  "authorizerId": token_authorizer(sandbox, "producer", PRODUCER, api, auth_fn)}
    apigw.put_method(restApiId=api, resourceId=widgets, httpMethod="GET", **method)
    apigw.put_integration(restApiId=api, resourceId=widgets, httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=invocation_uri(widget_fn))
    apigw.create_deployment(restApiId=api, stageName="prod")
    return api


def api_url(api_id: str, path: str = "/widgets", stage: str = "prod") -> str:
    return f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stage}{path}"


def consumer_api(sandbox, net: Network, producer_api_id: str, auth_fn: str, name: str) -> str:
    """Regional REST API: ANY / and ANY /{proxy+} → TOKEN authorizer → HTTP_PROXY over the VPC link."""
    apigw = sandbox.client("apigateway", "consumer")
    api = apigw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})["id"]
    authorizer = token_authorizer(sandbox, "consumer", CONSUMER, api, auth_fn)
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    proxy = apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
    producer_host = urlsplit(api_url(producer_api_id)).hostname
    for resource, uri, params in (
        (root, api_url(producer_api_id), {}),
        (proxy, api_url(producer_api_id, "/{proxy}"),
         {"integration.request.path.proxy": "method.request.path.proxy"}),
    ):
        apigw.put_method(restApiId=api, resourceId=resource, httpMethod="ANY",
                         authorizationType="CUSTOM", authorizerId=authorizer,
                         requestParameters={"method.request.path.proxy": True} if params else {})
        apigw.put_integration(
            restApiId=api, resourceId=resource, httpMethod="ANY", type="HTTP_PROXY",
            integrationHttpMethod="ANY", uri=uri, connectionType="VPC_LINK",
            connectionId=net.vpc_link_id,
            requestParameters={**params, "integration.request.header.Host": f"'{producer_host}'"},
        )
    apigw.create_deployment(restApiId=api, stageName="prod")
    return api


@dataclass
class Pattern1:
    secret_arn: str
    network: Network
    producer_api: str
    consumer_api: str
    consumer_authorizer_fn: str


def build_pattern1(sandbox, register_targets: bool = True) -> Pattern1:
    secret = consumer_secret(sandbox)
    net = consumer_network(sandbox, "consumer", "10.0.0.0/16")
    nlb_to_endpoint(sandbox, net, "consumer", register=register_targets)
    producer = producer_api(sandbox, net.vpce_id, secret)
    auth_fn = python_function(sandbox, "consumer", "ConsumerAuthorizer", AUTHORIZER_CODE,
                              env={"API_KEY": secret})
    consumer = consumer_api(sandbox, net, producer, auth_fn, "ConsumerApi")
    return Pattern1(secret, net, producer, consumer, auth_fn)


# ------------------------------------------------------------------ calling it


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _ResolvedHTTPS(http.client.HTTPSConnection):
    """HTTPS to `host` with its TCP connection made to the data plane, like curl --resolve."""

    def __init__(self, host: str, address: tuple[str, int], context: ssl.SSLContext):
        super().__init__(host, 443, context=context, timeout=DEADLINE)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection(self._address, timeout=self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def call(sandbox, url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Answer:
    plane = sandbox.info["data_plane"]
    context = ssl.create_default_context(cafile=plane["ca_file"])
    parts = urlsplit(url)
    conn = _ResolvedHTTPS(parts.hostname, ("127.0.0.1", plane["port"]), context)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""),
                     headers=headers or {})
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


# ------------------------------------------------------------------ tests


def test_ready_file_describes_the_data_plane(sandbox):
    plane = sandbox.info["data_plane"]
    assert plane["url"] == f"https://127.0.0.1:{plane['port']}"
    with open(plane["ca_file"]) as f:
        assert "BEGIN CERTIFICATE" in f.read()


def test_consumer_api_answers_the_widget_with_the_right_key(fresh):
    p1 = build_pattern1(fresh)
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert answer.status == 200, answer
    assert answer.json() == WIDGET
    # The proxy resource reaches the same producer path.
    answer = call(fresh, api_url(p1.consumer_api, "/widgets"), {"Authorization": API_KEY})
    assert (answer.status, answer.json()) == (200, WIDGET)


def test_missing_and_wrong_keys_are_refused_as_api_gateway_does(fresh):
    p1 = build_pattern1(fresh)
    missing = call(fresh, api_url(p1.consumer_api, "/"))
    assert (missing.status, missing.json()) == (401, {"message": "Unauthorized"})
    assert missing.headers["x-amzn-errortype"] == "UnauthorizedException"
    wrong = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": "not-the-key"})
    assert wrong.status == 403
    assert wrong.json() == {
        "Message": "User is not authorized to access this resource with an explicit deny"}
    assert wrong.headers["x-amzn-errortype"] == "AccessDeniedException"


def test_injected_unavailability_answers_503_for_the_next_calls_only(fresh):
    p1 = build_pattern1(fresh)
    fresh.control("faults/data-plane-unavailable", {"count": 2})
    for _ in range(2):
        answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
        assert (answer.status, answer.json()) == (503, {"message": "Service Unavailable"})
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert (answer.status, answer.json()) == (200, WIDGET)


def test_a_changed_resource_policy_applies_only_once_the_api_is_deployed_again(fresh):
    p1 = build_pattern1(fresh)
    apigw = fresh.client("apigateway", "producer")
    deny_all = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}]})
    apigw.update_rest_api(restApiId=p1.producer_api, patchOperations=[
        {"op": "replace", "path": "/policy", "value": deny_all}])
    # The stage still serves the deployment made before the change.
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert (answer.status, answer.json()) == (200, WIDGET)
    apigw.update_stage(restApiId=p1.producer_api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    deployment = apigw.create_deployment(restApiId=p1.producer_api, stageName="prod")["id"]
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert answer.status == 403, answer
    # The stage now serves the new deployment and kept its settings.
    stage = apigw.get_stage(restApiId=p1.producer_api, stageName="prod")
    assert (stage["deploymentId"], stage["tracingEnabled"]) == (deployment, True)


def test_private_api_refuses_a_direct_call_from_the_host(fresh):
    p1 = build_pattern1(fresh)
    direct = call(fresh, api_url(p1.producer_api), {"Authorization": API_KEY})
    assert direct.status == 403
    message = direct.json()["Message"]
    assert message.startswith("User: anonymous is not authorized to perform: execute-api:Invoke")
    assert f":{PRODUCER}:{p1.producer_api}/prod/GET/widgets" in message
    # Naming the endpoint in the host does not put the host inside the VPC.
    aliased = f"https://{p1.producer_api}-{p1.network.vpce_id}.execute-api.{REGION}.amazonaws.com"
    assert call(fresh, f"{aliased}/prod/widgets", {"Authorization": API_KEY}).status == 403


def test_a_forged_source_endpoint_header_is_ignored(fresh):
    p1 = build_pattern1(fresh)
    forged = call(fresh, api_url(p1.producer_api), {
        "Authorization": API_KEY, "x-xwizard-sandbox-source-vpce": p1.network.vpce_id,
        "x-xwizard-sandbox-source-signature": "0" * 64})
    assert forged.status == 403


def test_a_consumer_through_another_endpoint_is_refused_by_the_producer_policy(fresh):
    p1 = build_pattern1(fresh)
    other = consumer_network(fresh, "other", "10.1.0.0/16")
    nlb_to_endpoint(fresh, other, "other")
    other_api = consumer_api(fresh, other, p1.producer_api, p1.consumer_authorizer_fn, "OtherApi")
    answer = call(fresh, api_url(other_api, "/"), {"Authorization": API_KEY})
    assert answer.status == 403
    assert answer.json()["Message"].endswith("with an explicit deny")


def test_no_registered_target_is_an_integration_failure(fresh):
    p1 = build_pattern1(fresh, register_targets=False)
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert (answer.status, answer.json()) == (500, {"message": "Internal server error"})


def test_unknown_stage_and_resource(fresh):
    p1 = build_pattern1(fresh)
    stage = call(fresh, api_url(p1.consumer_api, "/", stage="nope"), {"Authorization": API_KEY})
    assert (stage.status, stage.json()) == (403, {"message": "Forbidden"})


def test_no_answer_once_the_api_is_deleted(fresh):
    p1 = build_pattern1(fresh)
    url = api_url(p1.consumer_api, "/")
    assert call(fresh, url, {"Authorization": API_KEY}).status == 200
    fresh.client("apigateway", "consumer").delete_rest_api(restApiId=p1.consumer_api)
    gone = wait_until(lambda: (a := call(fresh, url, {"Authorization": API_KEY})).status == 403 and a,
                      what="the deleted API to stop answering")
    assert gone.json() == {"message": "Forbidden"}
    assert gone.headers["x-amzn-errortype"] == "ForbiddenException"


def test_authorizer_failure_is_a_500_with_a_null_message(fresh):
    p1 = build_pattern1(fresh)
    fresh.client("lambda", "consumer").update_function_configuration(
        FunctionName=p1.consumer_authorizer_fn, Environment={"Variables": {"API_KEY": "missing"}})
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert (answer.status, answer.json()) == (500, {"message": None})
    assert answer.headers["x-amzn-errortype"] == "AuthorizerConfigurationException"


def test_unknown_host_is_forbidden(fresh):
    answer = call(fresh, api_url("abcdefghij", "/"))
    assert (answer.status, answer.json()) == (403, {"message": "Forbidden"})


def mock_api(sandbox) -> str:
    """A regional API with GET /widgets → MOCK, no authorizer, no policy."""
    apigw = sandbox.client("apigateway", "producer")
    api = apigw.create_rest_api(name="MockApi", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    widgets = apigw.create_resource(restApiId=api, parentId=root, pathPart="widgets")["id"]
    apigw.put_method(restApiId=api, resourceId=widgets, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=widgets, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_integration_response(restApiId=api, resourceId=widgets, httpMethod="GET",
                                   statusCode="200", selectionPattern="",
                                   responseTemplates={"application/json": json.dumps(WIDGET)})
    apigw.create_deployment(restApiId=api, stageName="prod")
    return api


def test_mock_integration_and_missing_resources(fresh):
    api = mock_api(fresh)
    answer = call(fresh, api_url(api))
    assert (answer.status, answer.json()) == (200, WIDGET)
    for path in ("/nothing-here", "/widgets/extra"):
        answer = call(fresh, api_url(api, path))
        assert (answer.status, answer.json()) == (403, {"message": "Missing Authentication Token"})
        assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert call(fresh, api_url(api), method="POST").status == 403


def test_private_api_reveals_nothing_to_the_host(fresh):
    p1 = build_pattern1(fresh)
    answer = call(fresh, api_url(p1.producer_api, "/nothing-here"), {"Authorization": API_KEY})
    assert answer.status == 403
    assert answer.json()["Message"].endswith("with an explicit deny")


def test_a_vpc_endpoint_policy_scoped_elsewhere_refuses(fresh):
    p1 = build_pattern1(fresh)
    fresh.client("ec2", "consumer").modify_vpc_endpoint(
        VpcEndpointId=p1.network.vpce_id, PolicyDocument=json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
            "Resource": f"arn:aws:execute-api:{REGION}:{PRODUCER}:someotherapi/*"}]}))
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert answer.status == 403
    assert answer.json()["Message"].endswith(
        "because no VPC endpoint policy allows the execute-api:Invoke action")
    fresh.client("ec2", "consumer").modify_vpc_endpoint(
        VpcEndpointId=p1.network.vpce_id, PolicyDocument=json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
            "Resource": f"arn:aws:execute-api:{REGION}:{PRODUCER}:{p1.producer_api}/*"}]}))
    answer = call(fresh, api_url(p1.consumer_api, "/"), {"Authorization": API_KEY})
    assert (answer.status, answer.json()) == (200, WIDGET)


def test_a_lambda_proxy_sees_the_request(fresh):
    code = ("import json\n\ndef handler(event, context):\n"
            "    keep = {k: event[k] for k in ('resource', 'path', 'httpMethod', 'body',\n"
            "            'queryStringParameters', 'pathParameters')}\n"
            "    keep['stage'] = event['requestContext']['stage']\n"
            "    return {'statusCode': 201, 'headers': {'x-echo': 'yes'},\n"
            "            'body': json.dumps(keep)}\n")
    apigw = fresh.client("apigateway", "producer")
    api = apigw.create_rest_api(name="Echo", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    proxy = apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
    fn = python_function(fresh, "producer", "echo", code)
    allow_apigateway(fresh, "producer", fn, PRODUCER, api)
    apigw.put_method(restApiId=api, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=proxy, httpMethod="ANY", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=invocation_uri(fn))
    apigw.create_deployment(restApiId=api, stageName="dev")
    plane = fresh.info["data_plane"]
    context = ssl.create_default_context(cafile=plane["ca_file"])
    conn = _ResolvedHTTPS(f"{api}.execute-api.{REGION}.amazonaws.com",
                          ("127.0.0.1", plane["port"]), context)
    # A chunked body, as clients streaming a request send it.
    conn.request("POST", "/dev/a/b?x=1", body=iter([b'{"n":', b" 1}"]),
                 headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
    resp = conn.getresponse()
    assert (resp.status, resp.getheader("x-echo")) == (201, "yes")
    assert json.loads(resp.read()) == {
        "resource": "/{proxy+}", "path": "/a/b", "httpMethod": "POST", "body": '{"n": 1}',
        "queryStringParameters": {"x": "1"}, "pathParameters": {"proxy": "a/b"}, "stage": "dev"}
    conn.close()


def test_a_function_apigateway_may_not_invoke_is_a_500(fresh):
    apigw = fresh.client("apigateway", "producer")
    api = apigw.create_rest_api(name="NoPermission", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    fn = python_function(fresh, "producer", "unpermitted", WIDGET_CODE)
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="AWS_PROXY",
                          integrationHttpMethod="POST", uri=invocation_uri(fn))
    apigw.create_deployment(restApiId=api, stageName="prod")
    answer = call(fresh, api_url(api, "/"))
    assert (answer.status, answer.json()) == (500, {"message": "Internal server error"})
