"""CloudFormation resource types added or mended by cfn_resource_types.py, checked through the
service APIs a user would look at after deploying a stack."""

from __future__ import annotations

import datetime
import json
import os
import string
import sys
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import CONSUMER, PRODUCER, wait_until

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TERMINAL = {
    "CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
    "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
    "DELETE_COMPLETE", "DELETE_FAILED",
}


# --- helpers ---------------------------------------------------------------------------------


def _status(cf, stack_id):
    stack = cf.describe_stacks(StackName=stack_id)["Stacks"][0]
    return stack if stack["StackStatus"] in TERMINAL else None


def deploy(sb, role, resources, outputs=None, parameters=None):
    """Create a stack, wait for it to settle, insist it succeeded; return (stack id, outputs)."""
    cf = sb.client("cloudformation", role)
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if outputs:
        template["Outputs"] = {k: {"Value": v} for k, v in outputs.items()}
    stack_id = cf.create_stack(
        StackName=f"t-{uuid.uuid4().hex[:10]}",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
    )["StackId"]
    stack = wait_until(lambda: _status(cf, stack_id), what="the stack to settle")
    if stack["StackStatus"] != "CREATE_COMPLETE":
        events = cf.describe_stack_events(StackName=stack_id)["StackEvents"]
        reasons = [e.get("ResourceStatusReason") for e in events if e.get("ResourceStatusReason")]
        raise AssertionError(f"{stack['StackStatus']}: {reasons}")
    return stack_id, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy_fails(sb, role, resources):
    """Create a stack that must fail; return the error text (API error or failure events)."""
    cf = sb.client("cloudformation", role)
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    try:
        stack_id = cf.create_stack(
            StackName=f"t-{uuid.uuid4().hex[:10]}", TemplateBody=json.dumps(template)
        )["StackId"]
    except ClientError as err:  # a synchronous engine fails the call itself
        return str(err)
    stack = wait_until(lambda: _status(cf, stack_id), what="the stack to settle")
    assert stack["StackStatus"] in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
    events = cf.describe_stack_events(StackName=stack_id)["StackEvents"]
    return " ".join(e.get("ResourceStatusReason") or "" for e in events)


def destroy(sb, role, stack_id):
    cf = sb.client("cloudformation", role)
    cf.delete_stack(StackName=stack_id)
    stack = wait_until(lambda: _status(cf, stack_id), what="the stack to be deleted")
    assert stack["StackStatus"] == "DELETE_COMPLETE", stack["StackStatus"]


def ref(name):
    return {"Ref": name}


def att(name, attribute):
    return {"Fn::GetAtt": [name, attribute]}


def network(extra=None):
    """A VPC with two subnets, an internal NLB, an IP target group and a TCP 443 listener."""
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.20.0.0/16"}},
        "SubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"), "CidrBlock": "10.20.1.0/24", "AvailabilityZone": "us-east-1a"}},
        "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"), "CidrBlock": "10.20.2.0/24", "AvailabilityZone": "us-east-1b"}},
        "Nlb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
            "Type": "network", "Scheme": "internal",
            "Subnets": [ref("SubnetA"), ref("SubnetB")],
            "LoadBalancerAttributes": [{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}]}},
        "TargetGroup": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
            "VpcId": ref("Vpc"), "Port": 443, "Protocol": "TCP", "TargetType": "ip",
            "HealthCheckProtocol": "HTTPS", "HealthCheckPath": "/ping",
            "Targets": [{"Id": "10.20.1.10", "Port": 443}]}},
        "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
            "LoadBalancerArn": ref("Nlb"), "Port": 443, "Protocol": "TCP",
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}]}},
    }
    resources.update(extra or {})
    return resources


def mock_api(extra=None):
    """A REST API with /widgets GET (MOCK) and a deployment."""
    resources = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Name": "widgets", "EndpointConfiguration": {"Types": ["REGIONAL"]}}},
        "Widgets": {"Type": "AWS::ApiGateway::Resource", "Properties": {
            "RestApiId": ref("Api"), "ParentId": att("Api", "RootResourceId"), "PathPart": "widgets"}},
        "GetWidgets": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": ref("Api"), "ResourceId": ref("Widgets"), "HttpMethod": "GET",
            "AuthorizationType": "NONE", "Integration": {"Type": "MOCK"}}},
        "Deployment": {"Type": "AWS::ApiGateway::Deployment", "DependsOn": "GetWidgets",
                       "Properties": {"RestApiId": ref("Api")}},
    }
    resources.update(extra or {})
    return resources


# --- registration ----------------------------------------------------------------------------


def test_every_added_type_is_in_motos_model_map():
    import cfn_resource_types  # noqa: F401  (defines the models)
    from moto.cloudformation.parsing import get_model_map

    cfn_resource_types._refresh_model_maps()
    known = get_model_map()
    for resource_type in (
        "AWS::EC2::VPCEndpointService", "AWS::EC2::VPCEndpointServicePermissions",
        "AWS::ApiGateway::VpcLink", "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Account", "AWS::ApiGateway::DomainName",
        "AWS::ApiGateway::BasePathMapping", "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::ResourcePolicy", "AWS::SecretsManager::RotationSchedule",
        "AWS::S3::BucketPolicy", "AWS::ElasticLoadBalancingV2::TrustStore",
        "AWS::CertificateManager::Certificate",
    ):
        assert resource_type in known, resource_type


# --- ELBv2 -----------------------------------------------------------------------------------


def test_network_load_balancer_takes_a_tcp_listener_and_has_a_net_arn(fresh):
    stack_id, out = deploy(fresh, "consumer", network(), outputs={
        "NlbArn": ref("Nlb"), "FullName": att("Nlb", "LoadBalancerFullName"),
        "TargetGroupArn": ref("TargetGroup"),
    })
    elbv2 = fresh.client("elbv2", "consumer")
    lb = elbv2.describe_load_balancers(LoadBalancerArns=[out["NlbArn"]])["LoadBalancers"][0]
    assert lb["Type"] == "network"
    assert lb["Scheme"] == "internal"
    assert f":{CONSUMER}:loadbalancer/net/" in lb["LoadBalancerArn"]
    assert out["FullName"].startswith("net/") and out["NlbArn"].endswith(out["FullName"])
    attributes = {a["Key"]: a["Value"] for a in elbv2.describe_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
    assert attributes["load_balancing.cross_zone.enabled"] == "true"

    listener = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]
    assert (listener["Protocol"], listener["Port"]) == ("TCP", 443)
    assert ":listener/net/" in listener["ListenerArn"]

    tg = elbv2.describe_target_groups(TargetGroupArns=[out["TargetGroupArn"]])["TargetGroups"][0]
    assert (tg["TargetType"], tg["Protocol"], tg["Port"]) == ("ip", "TCP", 443)
    assert (tg["HealthCheckProtocol"], tg["HealthCheckPath"]) == ("HTTPS", "/ping")
    assert tg["LoadBalancerArns"] == [lb["LoadBalancerArn"]]
    health = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    assert [t["Target"]["Id"] for t in health["TargetHealthDescriptions"]] == ["10.20.1.10"]

    destroy(fresh, "consumer", stack_id)
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert elbv2.describe_target_groups()["TargetGroups"] == []


def test_network_load_balancer_made_through_the_api_has_a_net_arn(fresh):
    ec2 = fresh.client("ec2", "producer")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    elbv2 = fresh.client("elbv2", "producer")
    lb = elbv2.create_load_balancer(Name="api-nlb", Subnets=[subnet], Type="network",
                                    Tags=[{"Key": "k", "Value": "v"}])["LoadBalancers"][0]
    assert ":loadbalancer/net/api-nlb/" in lb["LoadBalancerArn"]
    tags = elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "k", "Value": "v"}]
    alb = elbv2.create_load_balancer(Name="api-alb", Subnets=[subnet])["LoadBalancers"][0]
    assert ":loadbalancer/app/api-alb/" in alb["LoadBalancerArn"]


# --- PrivateLink endpoint service ------------------------------------------------------------


def test_endpoint_service_with_acceptance_and_permissions(fresh):
    stack_id, out = deploy(fresh, "producer", network({
        "Service": {"Type": "AWS::EC2::VPCEndpointService", "Properties": {
            "AcceptanceRequired": True, "NetworkLoadBalancerArns": [ref("Nlb")]}},
        "Permissions": {"Type": "AWS::EC2::VPCEndpointServicePermissions", "Properties": {
            "ServiceId": ref("Service"), "AllowedPrincipals": [f"arn:aws:iam::{CONSUMER}:root"]}},
    }), outputs={"ServiceRef": ref("Service"), "ServiceId": att("Service", "ServiceId"),
                 "NlbArn": ref("Nlb")})
    assert out["ServiceRef"] == out["ServiceId"] and out["ServiceId"].startswith("vpce-svc-")

    ec2 = fresh.client("ec2", "producer")
    config = ec2.describe_vpc_endpoint_service_configurations(
        ServiceIds=[out["ServiceId"]])["ServiceConfigurations"][0]
    assert config["AcceptanceRequired"] is True
    assert config["NetworkLoadBalancerArns"] == [out["NlbArn"]]
    assert config["ServiceName"] == f"com.amazonaws.vpce.us-east-1.{out['ServiceId']}"
    principals = ec2.describe_vpc_endpoint_service_permissions(
        ServiceId=out["ServiceId"])["AllowedPrincipals"]
    assert [p["Principal"] for p in principals] == [f"arn:aws:iam::{CONSUMER}:root"]

    destroy(fresh, "producer", stack_id)
    assert ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"] == []


def test_endpoint_service_without_a_load_balancer_fails(fresh):
    reason = deploy_fails(fresh, "producer", {
        "Service": {"Type": "AWS::EC2::VPCEndpointService", "Properties": {"AcceptanceRequired": True}},
    })
    assert "NetworkLoadBalancerArns" in reason


# --- API Gateway -----------------------------------------------------------------------------


def test_vpc_link_authorizer_stage_and_account(fresh):
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "apigateway.amazonaws.com"}}]}}}
    stack_id, out = deploy(fresh, "consumer", network(mock_api({
        "Link": {"Type": "AWS::ApiGateway::VpcLink", "Properties": {
            "Name": "to-nlb", "TargetArns": [ref("Nlb")]}},
        "Authorizer": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "RestApiId": ref("Api"), "Name": "token", "Type": "TOKEN",
            "AuthorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                             "arn:aws:lambda:us-east-1:222222222222:function:auth/invocations",
            "IdentitySource": "method.request.header.Authorization",
            "AuthorizerResultTtlInSeconds": 0}},
        "Proxy": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": ref("Api"), "ResourceId": att("Api", "RootResourceId"), "HttpMethod": "ANY",
            "AuthorizationType": "CUSTOM", "AuthorizerId": ref("Authorizer"),
            "Integration": {"Type": "HTTP_PROXY", "IntegrationHttpMethod": "ANY",
                            "Uri": "https://example.execute-api.us-east-1.amazonaws.com/prod/widgets",
                            "ConnectionType": "VPC_LINK", "ConnectionId": ref("Link")}}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": ref("Api"), "DeploymentId": ref("Deployment"), "StageName": "prod",
            "TracingEnabled": True,
            "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                                "LoggingLevel": "INFO"}],
            "AccessLogSetting": {"DestinationArn": att("Logs", "Arn"), "Format": "$context.requestId"}}},
        "CloudWatchRole": role,
        "Account": {"Type": "AWS::ApiGateway::Account", "DependsOn": "Api", "Properties": {
            "CloudWatchRoleArn": att("CloudWatchRole", "Arn")}},
    })), outputs={
        "LinkId": ref("Link"), "ApiId": ref("Api"), "AuthorizerRef": ref("Authorizer"),
        "AuthorizerId": att("Authorizer", "AuthorizerId"), "StageRef": ref("Stage"),
        "DeploymentId": ref("Deployment"), "NlbArn": ref("Nlb"), "RoleArn": att("CloudWatchRole", "Arn"),
    })
    apigw = fresh.client("apigateway", "consumer")
    links = apigw.get_vpc_links()["items"]
    assert [(l["id"], l["name"], l["targetArns"]) for l in links] == [
        (out["LinkId"], "to-nlb", [out["NlbArn"]])]

    assert out["AuthorizerRef"] == out["AuthorizerId"]
    authorizer = apigw.get_authorizer(restApiId=out["ApiId"], authorizerId=out["AuthorizerId"])
    assert (authorizer["type"], authorizer["identitySource"]) == (
        "TOKEN", "method.request.header.Authorization")
    assert authorizer["authorizerResultTtlInSeconds"] == 0

    root = [r for r in apigw.get_resources(restApiId=out["ApiId"])["items"] if r["path"] == "/"][0]
    method = apigw.get_method(restApiId=out["ApiId"], resourceId=root["id"], httpMethod="ANY")
    assert (method["authorizationType"], method["authorizerId"]) == ("CUSTOM", out["AuthorizerId"])
    assert method["methodIntegration"]["connectionType"] == "VPC_LINK"
    assert method["methodIntegration"]["connectionId"] == out["LinkId"]

    assert out["StageRef"] == "prod"
    stage = apigw.get_stage(restApiId=out["ApiId"], stageName="prod")
    assert stage["deploymentId"] == out["DeploymentId"]
    assert stage["tracingEnabled"] is True
    assert stage["methodSettings"]["*/*"]["metricsEnabled"] is True
    assert stage["methodSettings"]["*/*"]["loggingLevel"] == "INFO"
    assert stage["accessLogSettings"]["format"] == "$context.requestId"

    assert apigw.get_account()["cloudwatchRoleArn"] == out["RoleArn"]

    destroy(fresh, "consumer", stack_id)
    assert apigw.get_vpc_links()["items"] == []
    assert apigw.get_rest_apis()["items"] == []


def test_a_stack_update_changes_the_api_policy_and_the_inline_function_code(fresh):
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}}}

    def template(vpce: str, answer: str) -> str:
        return json.dumps({"Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
                "Name": "private", "EndpointConfiguration": {"Types": ["PRIVATE"]},
                "Policy": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*",
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}}]}}},
            "Role": role,
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.13", "Handler": "index.handler", "Role": att("Role", "Arn"),
                "Timeout": 300,
                "Code": {"ZipFile": f"def handler(event, context):\n    return '{answer}'\n"}}},
        }, "Outputs": {"ApiId": {"Value": ref("Api")}, "Fn": {"Value": ref("Fn")}}})

    cf = fresh.client("cloudformation", "producer")
    stack_id = cf.create_stack(StackName="updated", TemplateBody=template("vpce-1", "v1"))["StackId"]
    assert wait_until(lambda: _status(cf, stack_id))["StackStatus"] == "CREATE_COMPLETE"
    cf.update_stack(StackName=stack_id, TemplateBody=template("vpce-2", "v2"))
    stack = wait_until(lambda: (s := _status(cf, stack_id)) and s["StackStatus"].startswith("UPDATE")
                       and s)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    policy = fresh.client("apigateway", "producer").get_rest_api(restApiId=out["ApiId"])["policy"]
    assert "vpce-2" in policy and "vpce-1" not in policy
    result = fresh.client("lambda", "producer").invoke(FunctionName=out["Fn"])
    assert json.loads(result["Payload"].read()) == "v2"


def test_the_account_setting_needs_an_api_gateway_resource_first(fresh):
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "apigateway.amazonaws.com"}}]}}}
    reason = deploy_fails(fresh, "producer", {
        "CloudWatchRole": role,
        "Account": {"Type": "AWS::ApiGateway::Account", "Properties": {
            "CloudWatchRoleArn": att("CloudWatchRole", "Arn")}},
    })
    assert "does not have required permissions set to API Gateway" in reason
    assert fresh.client("apigateway", "producer").get_account().get("cloudwatchRoleArn") is None


def test_a_role_not_yet_propagated_is_refused_until_it_is(fresh):
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "apigateway.amazonaws.com"}}]}}}
    resources = mock_api({
        "CloudWatchRole": role,
        "Account": {"Type": "AWS::ApiGateway::Account", "DependsOn": "Api", "Properties": {
            "CloudWatchRoleArn": att("CloudWatchRole", "Arn")}},
    })
    fresh.control("faults/role-not-ready", {"count": 1})
    reason = deploy_fails(fresh, "producer", resources)
    assert "does not have required permissions set to API Gateway" in reason
    deploy(fresh, "producer", resources)
    # Asked again, it is accepted and set.
    assert ":role/" in fresh.client("apigateway", "producer").get_account()["cloudwatchRoleArn"]


def test_stage_and_authorizer_go_before_their_api(fresh):
    stack_id, out = deploy(fresh, "producer", mock_api({
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": ref("Api"), "DeploymentId": ref("Deployment"), "StageName": "v1"}},
    }), outputs={"ApiId": ref("Api")})
    apigw = fresh.client("apigateway", "producer")
    assert [s["stageName"] for s in apigw.get_stages(restApiId=out["ApiId"])["item"]] == ["v1"]
    destroy(fresh, "producer", stack_id)
    with pytest.raises(ClientError):
        apigw.get_stages(restApiId=out["ApiId"])


def test_token_authorizer_without_uri_fails(fresh):
    reason = deploy_fails(fresh, "producer", mock_api({
        "Authorizer": {"Type": "AWS::ApiGateway::Authorizer", "Properties": {
            "RestApiId": ref("Api"), "Name": "token", "Type": "TOKEN",
            "IdentitySource": "method.request.header.Authorization"}},
    }))
    assert "Authorizer URI" in reason


def test_private_rest_api_keeps_its_policy_and_endpoint_configuration(fresh):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}}]}
    stack_id, out = deploy(fresh, "producer", mock_api({
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {
            "Name": "private", "EndpointConfiguration": {"Types": ["PRIVATE"]}, "Policy": policy}},
    }), outputs={"ApiId": ref("Api")})
    api = fresh.client("apigateway", "producer").get_rest_api(restApiId=out["ApiId"])
    assert api["endpointConfiguration"]["types"] == ["PRIVATE"]
    assert json.loads(api["policy"]) == policy
    destroy(fresh, "producer", stack_id)


def test_custom_domain_with_certificate_and_base_path_mapping(fresh):
    route53 = fresh.client("route53", "producer")
    zone_id = route53.create_hosted_zone(
        Name="example.com", CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"].split("/")[-1]
    stack_id, out = deploy(fresh, "producer", mock_api({
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
            "RestApiId": ref("Api"), "DeploymentId": ref("Deployment"), "StageName": "prod"}},
        "Certificate": {"Type": "AWS::CertificateManager::Certificate", "Properties": {
            "DomainName": "api.example.com", "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": "api.example.com", "HostedZoneId": zone_id}]}},
        "Domain": {"Type": "AWS::ApiGateway::DomainName", "Properties": {
            "DomainName": "api.example.com", "RegionalCertificateArn": ref("Certificate"),
            "EndpointConfiguration": {"Types": ["REGIONAL"]}, "SecurityPolicy": "TLS_1_2"}},
        "Mapping": {"Type": "AWS::ApiGateway::BasePathMapping", "DependsOn": "Stage", "Properties": {
            "DomainName": ref("Domain"), "RestApiId": ref("Api"), "Stage": "prod"}},
    }), outputs={"ApiId": ref("Api"), "CertArn": ref("Certificate"), "Domain": ref("Domain"),
                 "Regional": att("Domain", "RegionalDomainName"),
                 "Zone": att("Domain", "RegionalHostedZoneId")})
    acm = fresh.client("acm", "producer")
    cert = acm.describe_certificate(CertificateArn=out["CertArn"])["Certificate"]
    assert cert["Status"] == "ISSUED" and cert["DomainName"] == "api.example.com"
    validation = cert["DomainValidationOptions"][0]["ResourceRecord"]
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert validation["Name"] in [r["Name"] for r in records]

    apigw = fresh.client("apigateway", "producer")
    assert out["Domain"] == "api.example.com"
    domain = apigw.get_domain_name(domainName="api.example.com")
    assert domain["regionalDomainName"] == out["Regional"]
    assert domain["regionalCertificateArn"] == out["CertArn"]
    assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
    assert out["Zone"]
    mappings = apigw.get_base_path_mappings(domainName="api.example.com")["items"]
    assert [(m["restApiId"], m["stage"]) for m in mappings] == [(out["ApiId"], "prod")]

    destroy(fresh, "producer", stack_id)
    assert apigw.get_domain_names()["items"] == []
    assert acm.list_certificates()["CertificateSummaryList"] == []


# --- Secrets Manager -------------------------------------------------------------------------


def test_secret_generation_resource_policy_and_rotation(fresh):
    lambda_role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}}}
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PRODUCER}:root"},
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
    stack_id, out = deploy(fresh, "consumer", {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                                    "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"}}]}}},
        "ApiKey": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": "xwizard/api-key", "Description": "API key", "KmsKeyId": ref("Key"),
            "Tags": [{"Key": "xwizard:deployment", "Value": "t"}],
            "GenerateSecretString": {"PasswordLength": 32, "ExcludePunctuation": True,
                                     "ExcludeCharacters": "0Ol1"}}},
        "Login": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "GenerateSecretString": {"SecretStringTemplate": json.dumps({"username": "svc"}),
                                     "GenerateStringKey": "password", "PasswordLength": 20,
                                     "IncludeSpace": False, "RequireEachIncludedType": True}}},
        "Policy": {"Type": "AWS::SecretsManager::ResourcePolicy", "Properties": {
            "SecretId": ref("ApiKey"), "ResourcePolicy": policy, "BlockPublicPolicy": True}},
        "RotationRole": lambda_role,
        "Rotator": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.13", "Handler": "index.handler", "Role": att("RotationRole", "Arn"),
            "Code": {"ZipFile": "def handler(event, context):\n    return None\n"}}},
        "Rotation": {"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {
            "SecretId": ref("ApiKey"), "RotationLambdaARN": att("Rotator", "Arn"),
            "RotationRules": {"AutomaticallyAfterDays": 30}}},
    }, outputs={"Arn": ref("ApiKey"), "Id": att("ApiKey", "Id"), "PolicyRef": ref("Policy"),
                "RotationRef": ref("Rotation"), "LambdaArn": att("Rotator", "Arn"),
                "LoginArn": ref("Login"), "KeyId": ref("Key")})
    assert out["Arn"] == out["Id"] == out["PolicyRef"] == out["RotationRef"]
    assert out["Arn"].startswith(f"arn:aws:secretsmanager:us-east-1:{CONSUMER}:secret:xwizard/api-key-")

    sm = fresh.client("secretsmanager", "consumer")
    value = sm.get_secret_value(SecretId=out["Arn"])["SecretString"]
    assert len(value) == 32
    assert not set(value) & set(string.punctuation)
    assert not set(value) & set("0Ol1")

    login = json.loads(sm.get_secret_value(SecretId=out["LoginArn"])["SecretString"])
    assert login["username"] == "svc" and len(login["password"]) == 20

    stored = sm.get_resource_policy(SecretId=out["Arn"])
    assert json.loads(stored["ResourcePolicy"]) == policy

    described = sm.describe_secret(SecretId=out["Arn"])
    assert described["Description"] == "API key"
    assert described["KmsKeyId"] == out["KeyId"]
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == out["LambdaArn"]
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    # The rotation Lambda is not run at create time: the value stays as generated.
    assert sm.get_secret_value(SecretId=out["Arn"])["SecretString"] == value

    destroy(fresh, "consumer", stack_id)
    with pytest.raises(ClientError) as err:
        sm.describe_secret(SecretId="xwizard/api-key")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_public_secret_policy_is_blocked(fresh):
    reason = deploy_fails(fresh, "consumer", {
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "x"}},
        "Policy": {"Type": "AWS::SecretsManager::ResourcePolicy", "Properties": {
            "SecretId": ref("Secret"), "ResourcePolicy": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
                "Resource": "*"}]}}},
    })
    assert "public access" in reason


def test_secret_template_without_key_fails(fresh):
    reason = deploy_fails(fresh, "consumer", {
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "GenerateSecretString": {"SecretStringTemplate": "{}"}}},
    })
    assert "GenerateStringKey" in reason


# --- trust store -----------------------------------------------------------------------------


def _ca_pem() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xwizard test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_trust_store_reads_its_bundle_from_s3(fresh):
    s3 = fresh.client("s3", "producer")
    s3.create_bucket(Bucket="xwizard-ca")
    pem = _ca_pem()
    s3.put_object(Bucket="xwizard-ca", Key="ca.pem", Body=pem)
    s3.put_object(Bucket="xwizard-ca", Key="bad.pem", Body=b"not a certificate")
    stack_id, out = deploy(fresh, "producer", {
        "Store": {"Type": "AWS::ElasticLoadBalancingV2::TrustStore", "Properties": {
            "Name": "xwizard-ca", "CaCertificatesBundleS3Bucket": "xwizard-ca",
            "CaCertificatesBundleS3Key": "ca.pem"}},
    }, outputs={"Ref": ref("Store"), "Arn": att("Store", "TrustStoreArn"),
                "Count": att("Store", "NumberOfCaCertificates"), "Status": att("Store", "Status")})
    assert out["Ref"] == out["Arn"]
    assert out["Arn"].startswith(f"arn:aws:elasticloadbalancing:us-east-1:{PRODUCER}:truststore/xwizard-ca/")
    assert (out["Count"], out["Status"]) == ("1", "ACTIVE")

    reason = deploy_fails(fresh, "producer", {
        "Store": {"Type": "AWS::ElasticLoadBalancingV2::TrustStore", "Properties": {
            "CaCertificatesBundleS3Bucket": "xwizard-ca", "CaCertificatesBundleS3Key": "bad.pem"}},
    })
    assert "The specified ca certificate bundle is in an invalid format, or corrupt." in reason
    destroy(fresh, "producer", stack_id)


# --- types moto has, mended to go with their stack -------------------------------------------


def test_nat_flow_log_endpoint_zone_and_bucket_policy_are_torn_down(fresh):
    endpoint_policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}]}
    stack_id, out = deploy(fresh, "consumer", {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.30.0.0/16"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"), "CidrBlock": "10.30.1.0/24", "AvailabilityZone": "us-east-1a"}},
        "Eip": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {
            "AllocationId": att("Eip", "AllocationId"), "SubnetId": ref("Subnet")}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        "FlowLog": {"Type": "AWS::EC2::FlowLog", "Properties": {
            "ResourceId": ref("Vpc"), "ResourceType": "VPC", "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs", "LogGroupName": ref("Logs"),
            "DeliverLogsPermissionArn": f"arn:aws:iam::{CONSUMER}:role/flow-logs"}},
        "Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": ref("Vpc"), "ServiceName": "com.amazonaws.us-east-1.execute-api",
            "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
            "SubnetIds": [ref("Subnet")], "PolicyDocument": endpoint_policy}},
        "Zone": {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "internal.example"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": ref("Bucket"), "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": {"Fn::Sub": "${Bucket.Arn}/*"},
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
    }, outputs={"Endpoint": ref("Endpoint"), "Bucket": ref("Bucket")})
    ec2 = fresh.client("ec2", "consumer")
    endpoint = ec2.describe_vpc_endpoints(VpcEndpointIds=[out["Endpoint"]])["VpcEndpoints"][0]
    assert endpoint["PrivateDnsEnabled"] is True
    assert json.loads(endpoint["PolicyDocument"]) == endpoint_policy
    s3 = fresh.client("s3", "consumer")
    assert json.loads(s3.get_bucket_policy(Bucket=out["Bucket"])["Policy"])["Statement"][0]["Effect"] == "Deny"

    destroy(fresh, "consumer", stack_id)
    nats = ec2.describe_nat_gateways()["NatGateways"]
    assert all(n["State"] == "deleted" for n in nats)
    assert ec2.describe_addresses()["Addresses"] == []
    assert ec2.describe_flow_logs()["FlowLogs"] == []
    # As in AWS, a deleted endpoint is still listed for a while, in state "deleted".
    assert all(e["State"].lower() == "deleted" for e in ec2.describe_vpc_endpoints()["VpcEndpoints"])
    assert fresh.client("route53", "consumer").list_hosted_zones()["HostedZones"] == []
    assert out["Bucket"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_kms_key_takes_cloudformation_tags(fresh):
    stack_id, out = deploy(fresh, "consumer", {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {
            "Description": "tagged", "KeyPolicy": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                "Principal": {"AWS": f"arn:aws:iam::{CONSUMER}:root"}}]},
            "Tags": [{"Key": "Name", "Value": "api-key"}, {"Key": "team", "Value": "x"}]}},
    }, outputs={"KeyId": ref("Key")})
    kms = fresh.client("kms", "consumer")
    tags = kms.list_resource_tags(KeyId=out["KeyId"])["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == [("Name", "api-key"), ("team", "x")]
    destroy(fresh, "consumer", stack_id)


def _network_state(ec2):
    """Every EC2 network resource that is still live (deleted endpoints and NAT gateways stay
    listed for a while in AWS too, in state "deleted")."""
    return {
        "vpcs": {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]},
        "subnets": {s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]},
        "route tables": {r["RouteTableId"] for r in ec2.describe_route_tables()["RouteTables"]},
        "internet gateways": {
            g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]},
        "network interfaces": {
            n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]},
        "network acls": {a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"]},
        "security groups": {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]},
        "vpc endpoints": {e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                          if e["State"].lower() != "deleted"},
        "nat gateways": {n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"]
                         if n["State"] != "deleted"},
        "addresses": {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]},
    }


def _tagged(name):
    return [{"Key": "Name", "Value": name}]


def consumer_vpc_network():
    """The network of the consumer-vpc template: public and private subnets, an internet
    gateway, a NAT gateway, routes and an execute-api interface endpoint."""
    cidr = {"Fn::Cidr": [att("Vpc", "CidrBlock"), 4, 14]}

    def subnet(index, zone):
        return {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"), "CidrBlock": {"Fn::Select": [index, cidr]},
            "AvailabilityZone": {"Fn::Select": [zone, {"Fn::GetAZs": ""}]}, "Tags": _tagged(f"s{index}")}}

    def association(subnet_name, table):
        return {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "SubnetId": ref(subnet_name), "RouteTableId": ref(table)}}

    return {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": "10.0.0.0/16", "EnableDnsSupport": True, "EnableDnsHostnames": True}},
        "Igw": {"Type": "AWS::EC2::InternetGateway", "Properties": {"Tags": _tagged("igw")}},
        "IgwAttachment": {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
            "VpcId": ref("Vpc"), "InternetGatewayId": ref("Igw")}},
        "Public1": subnet(0, 0), "Public2": subnet(1, 1),
        "Private1": subnet(2, 0), "Private2": subnet(3, 1),
        "PublicTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": ref("Vpc")}},
        "PublicRoute": {"Type": "AWS::EC2::Route", "DependsOn": "IgwAttachment", "Properties": {
            "RouteTableId": ref("PublicTable"), "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": ref("Igw")}},
        "Public1Assoc": association("Public1", "PublicTable"),
        "Public2Assoc": association("Public2", "PublicTable"),
        "NatEip": {"Type": "AWS::EC2::EIP", "DependsOn": "IgwAttachment",
                   "Properties": {"Domain": "vpc"}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {
            "AllocationId": att("NatEip", "AllocationId"), "SubnetId": ref("Public1")}},
        "PrivateTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": ref("Vpc")}},
        "PrivateRoute": {"Type": "AWS::EC2::Route", "Properties": {
            "RouteTableId": ref("PrivateTable"), "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": ref("Nat")}},
        "Private1Assoc": association("Private1", "PrivateTable"),
        "Private2Assoc": association("Private2", "PrivateTable"),
        "EndpointGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "https", "VpcId": ref("Vpc"),
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                      "CidrIp": att("Vpc", "CidrBlock")}]}},
        "Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
            "VpcId": ref("Vpc"), "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.execute-api"},
            "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
            "SubnetIds": [ref("Private1"), ref("Private2")],
            "SecurityGroupIds": [ref("EndpointGroup")]}},
    }


def test_consumer_vpc_network_deletes_to_nothing(fresh):
    ec2 = fresh.client("ec2", "consumer")
    before = _network_state(ec2)
    stack_id, out = deploy(fresh, "consumer", consumer_vpc_network(), outputs={
        "Vpc": ref("Vpc"), "PublicTable": ref("PublicTable"), "PrivateTable": ref("PrivateTable"),
        "Public1Assoc": ref("Public1Assoc"), "Private1": ref("Private1"), "Nat": ref("Nat"),
        "Endpoint": ref("Endpoint"), "Igw": ref("Igw")})

    # What the stack made is really there, associations and routes included.
    assert out["Public1Assoc"].startswith("rtbassoc-")
    tables = {t["RouteTableId"]: t for t in ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [out["Vpc"]]}])["RouteTables"]}
    public = tables[out["PublicTable"]]
    assert out["Public1Assoc"] in [a["RouteTableAssociationId"] for a in public["Associations"]]
    assert len(public["Associations"]) == 2 and len(tables[out["PrivateTable"]]["Associations"]) == 2
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": out["Igw"]}.items() <= next(
        r for r in public["Routes"] if r["DestinationCidrBlock"] == "0.0.0.0/0").items()
    private_route = next(r for r in tables[out["PrivateTable"]]["Routes"]
                         if r["DestinationCidrBlock"] == "0.0.0.0/0")
    assert private_route["NatGatewayId"] == out["Nat"]
    igw = ec2.describe_internet_gateways(InternetGatewayIds=[out["Igw"]])["InternetGateways"][0]
    assert igw["Attachments"][0]["VpcId"] == out["Vpc"]
    endpoint = ec2.describe_vpc_endpoints(VpcEndpointIds=[out["Endpoint"]])["VpcEndpoints"][0]
    assert len(endpoint["NetworkInterfaceIds"]) == 2
    enis = ec2.describe_network_interfaces(
        Filters=[{"Name": "vpc-id", "Values": [out["Vpc"]]}])["NetworkInterfaces"]
    assert len(enis) == 3  # the endpoint's two and the NAT gateway's

    destroy(fresh, "consumer", stack_id)
    assert _network_state(ec2) == before


def test_consumer_vpc_network_rolls_back_to_nothing(fresh):
    ec2 = fresh.client("ec2", "consumer")
    before = _network_state(ec2)
    resources = consumer_vpc_network()
    # Made last, after every network resource: its failure rolls all of them back.
    resources["Unemulated"] = {"Type": "AWS::Sandbox::Unknown", "DependsOn": ["Endpoint", "PrivateRoute",
                               "Private1Assoc", "Private2Assoc", "Public1Assoc", "Public2Assoc", "PublicRoute"],
                               "Properties": {}}
    reason = deploy_fails(fresh, "consumer", resources)
    assert "does not emulate resource type AWS::Sandbox::Unknown" in reason
    cf = fresh.client("cloudformation", "consumer")
    stacks = [s for s in cf.describe_stacks()["Stacks"] if s["StackStatus"].startswith("ROLLBACK")]
    assert [s["StackStatus"] for s in stacks] == ["ROLLBACK_COMPLETE"]
    assert _network_state(ec2) == before


TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "templates")


def _account_state(sb, role):
    """The network plus every other kind of resource the consumer-vpc template makes."""
    state = _network_state(sb.client("ec2", role))
    elbv2 = sb.client("elbv2", role)
    kms = sb.client("kms", role)
    state.update({
        "load balancers": {lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]},
        "target groups": {t["TargetGroupArn"] for t in elbv2.describe_target_groups()["TargetGroups"]},
        "secrets": {x["ARN"] for x in sb.client("secretsmanager", role).list_secrets()["SecretList"]},
        "functions": {f["FunctionName"] for f in sb.client("lambda", role).list_functions()["Functions"]},
        "log groups": {g["logGroupName"] for g in sb.client("logs", role).describe_log_groups()["logGroups"]},
        "roles": {r["RoleName"] for r in sb.client("iam", role).list_roles()["Roles"]},
        "buckets": {b["Name"] for b in sb.client("s3", role).list_buckets()["Buckets"]},
        "aliases": {a["AliasName"] for a in kms.list_aliases()["Aliases"]
                    if not a["AliasName"].startswith("alias/aws/")},
        # A deleted key is scheduled for deletion (AWS keeps it for the pending window).
        "usable keys": {k["KeyId"] for k in kms.list_keys()["Keys"]
                        if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"},
    })
    return state


def test_consumer_vpc_template_deploys_and_deletes_leaving_nothing(fresh):
    with open(os.path.join(TEMPLATES, "pattern1", "consumer-vpc.yaml")) as f:
        body = f.read()
    before = _account_state(fresh, "consumer")
    cf = fresh.client("cloudformation", "consumer")
    stack_id = cf.create_stack(
        StackName="fixtest-consumer-vpc", TemplateBody=body,
        Parameters=[{"ParameterKey": "DeploymentName", "ParameterValue": "fixtest"},
                    {"ParameterKey": "ProducerAccountId", "ParameterValue": PRODUCER}],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )["StackId"]
    stack = wait_until(lambda: _status(cf, stack_id), what="the stack to settle")
    reasons = [e.get("ResourceStatusReason") for e in cf.describe_stack_events(StackName=stack_id)["StackEvents"]
               if "FAILED" in e["ResourceStatus"]]
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    kms = fresh.client("kms", "consumer")
    tags = kms.list_resource_tags(KeyId=out["ApiKeyKmsKeyArn"])["Tags"]
    assert {"TagKey": "Name", "TagValue": "fixtest-api-key"} in tags
    subnets = fresh.client("ec2", "consumer").describe_subnets(
        SubnetIds=out["PrivateSubnetIds"].split(","))["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.0.128.0/18", "10.0.192.0/18"]

    cf.delete_stack(StackName=stack_id)
    stack = wait_until(lambda: _status(cf, stack_id), what="the stack to be deleted")
    reasons = [e.get("ResourceStatusReason") for e in cf.describe_stack_events(StackName=stack_id)["StackEvents"]
               if "FAILED" in e["ResourceStatus"]]
    assert stack["StackStatus"] == "DELETE_COMPLETE", reasons
    assert _account_state(fresh, "consumer") == before


# --- updates ---------------------------------------------------------------------------------


def test_update_changes_permissions_and_secret_in_place(fresh):
    def template(principal, description):
        return network({
            "Service": {"Type": "AWS::EC2::VPCEndpointService", "Properties": {
                "AcceptanceRequired": True, "NetworkLoadBalancerArns": [ref("Nlb")]}},
            "Permissions": {"Type": "AWS::EC2::VPCEndpointServicePermissions", "Properties": {
                "ServiceId": ref("Service"), "AllowedPrincipals": [principal]}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
                "Name": "kept", "Description": description,
                "GenerateSecretString": {"ExcludePunctuation": True}}},
        })

    stack_id, out = deploy(fresh, "producer", template(f"arn:aws:iam::{CONSUMER}:root", "one"),
                           outputs={"ServiceId": ref("Service"), "Secret": ref("Secret")})
    sm = fresh.client("secretsmanager", "producer")
    value = sm.get_secret_value(SecretId="kept")["SecretString"]

    cf = fresh.client("cloudformation", "producer")
    body = {"Resources": template(f"arn:aws:iam::{PRODUCER}:root", "two"),
            "Outputs": {"ServiceId": {"Value": ref("Service")}, "Secret": {"Value": ref("Secret")}}}
    cf.update_stack(StackName=stack_id, TemplateBody=json.dumps(body))
    stack = wait_until(lambda: _status(cf, stack_id), what="the update to settle")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"

    ec2 = fresh.client("ec2", "producer")
    principals = ec2.describe_vpc_endpoint_service_permissions(ServiceId=out["ServiceId"])["AllowedPrincipals"]
    assert [p["Principal"] for p in principals] == [f"arn:aws:iam::{PRODUCER}:root"]
    described = sm.describe_secret(SecretId="kept")
    assert described["ARN"] == out["Secret"] and described["Description"] == "two"
    assert sm.get_secret_value(SecretId="kept")["SecretString"] == value
    destroy(fresh, "producer", stack_id)


def test_an_interface_endpoint_has_its_dns_entries_and_tags(fresh):
    endpoint = {"ProbeEndpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": ref("Vpc"), "ServiceName": "com.amazonaws.us-east-1.execute-api",
        "VpcEndpointType": "Interface", "PrivateDnsEnabled": False,
        "SubnetIds": [ref("SubnetA"), ref("SubnetB")],
        "Tags": [{"Key": "Name", "Value": "probe"}]}}}
    regional = {"Fn::Select": [1, {"Fn::Split": [":", {"Fn::Select": [
        0, att("ProbeEndpoint", "DnsEntries")]}]}]}
    stack_id, out = deploy(fresh, "consumer", network(endpoint), outputs={
        "Id": ref("ProbeEndpoint"), "DnsName": regional})
    ec2 = fresh.client("ec2", "consumer")
    found = ec2.describe_vpc_endpoints(VpcEndpointIds=[out["Id"]])["VpcEndpoints"][0]
    # The regional name first, as AWS lists them, and as DescribeVpcEndpoints shows them.
    assert out["DnsName"] == found["DnsEntries"][0]["DnsName"]
    assert out["DnsName"].startswith(out["Id"] + "-")
    assert out["DnsName"].endswith(".execute-api.us-east-1.vpce.amazonaws.com")
    assert {"Key": "Name", "Value": "probe"} in found["Tags"]
    assert found["PrivateDnsEnabled"] is False
    destroy(fresh, "consumer", stack_id)
    # Deleted with its stack (AWS lists a deleted endpoint for a while, as `deleted`).
    gone = ec2.describe_vpc_endpoints(VpcEndpointIds=[out["Id"]])["VpcEndpoints"]
    assert [e["State"] for e in gone] in ([], ["deleted"])


def test_a_role_carries_its_managed_policies_until_its_stack_goes(fresh):
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "managed-policies-role",
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                       "Action": "sts:AssumeRole"}],
                    },
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
                },
            }
        }
    }
    cfn = fresh.client("cloudformation", "consumer")
    iam = fresh.client("iam", "consumer")
    cfn.create_stack(StackName="managed-policies", TemplateBody=json.dumps(template))
    wait_until(lambda: cfn.describe_stacks(StackName="managed-policies")["Stacks"][0]["StackStatus"]
               == "CREATE_COMPLETE", what="the role's stack")
    attached = iam.list_attached_role_policies(RoleName="managed-policies-role")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonSSMManagedInstanceCore"]
    cfn.delete_stack(StackName="managed-policies")
    wait_until(lambda: not [s for s in cfn.list_stacks()["StackSummaries"]
                            if s["StackName"] == "managed-policies" and s["StackStatus"] != "DELETE_COMPLETE"],
               what="the stack's deletion")
    assert "managed-policies-role" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def test_a_role_update_keeps_its_managed_policies_in_step(fresh):
    def template(policies):
        return json.dumps({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "managed-policies-update",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "ManagedPolicyArns": policies}}}})
    cfn = fresh.client("cloudformation", "producer")
    iam = fresh.client("iam", "producer")
    status = lambda: cfn.describe_stacks(StackName="managed-update")["Stacks"][0]["StackStatus"]
    cfn.create_stack(StackName="managed-update",
                     TemplateBody=template(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]))
    wait_until(lambda: status() == "CREATE_COMPLETE", what="the role's stack")
    cfn.update_stack(StackName="managed-update",
                     TemplateBody=template(["arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]))
    wait_until(lambda: status() == "UPDATE_COMPLETE", what="the update")
    attached = iam.list_attached_role_policies(RoleName="managed-policies-update")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonAPIGatewayPushToCloudWatchLogs"]
