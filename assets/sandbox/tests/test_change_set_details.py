"""DescribeChangeSet as AWS answers it: replacements, details and, on request, property values."""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import wait_until
from test_async_cloudformation import settle, vpc_template

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import change_set_details  # noqa: E402

KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"

ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "read", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:k"},
            "Condition": {"StringEquals": {"aws:SourceVpce": {"Ref": "EndpointId"}}}}]}}],
    },
}


@pytest.fixture
def cfn(fresh):
    return fresh.client("cloudformation", "producer")


def with_parameter(template: str) -> str:
    doc = json.loads(template)
    doc["Parameters"] = {"EndpointId": {"Type": "String"}}
    return json.dumps(doc)


def made(cfn, stack: str, name: str, template: str, kind: str, **params: str) -> None:
    cfn.create_change_set(
        StackName=stack, ChangeSetName=name, ChangeSetType=kind, TemplateBody=template,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    wait_until(lambda: cfn.describe_change_set(StackName=stack, ChangeSetName=name)["Status"]
               == "CREATE_COMPLETE", what=f"change set {name}")


def changes(cfn, stack: str, name: str, values: bool = True) -> dict[str, dict]:
    out = cfn.describe_change_set(StackName=stack, ChangeSetName=name, IncludePropertyValues=values)
    return {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in out["Changes"]}


def context(change: dict, which: str) -> dict:
    return json.loads(change[which])["Properties"]


def test_a_new_stack_shows_the_resolved_properties_and_leaves_unmade_ids_unknown(cfn):
    template = with_parameter(vpc_template({"Role": ROLE}))
    made(cfn, "review-new", "first", template, "CREATE", EndpointId="vpce-0123")

    plain = changes(cfn, "review-new", "first", values=False)
    assert set(plain) == {"Vpc", "SubnetA", "SecurityGroup", "Role"}
    assert all("AfterContext" not in c and "BeforeContext" not in c for c in plain.values())

    found = changes(cfn, "review-new", "first")
    assert context(found["Vpc"], "AfterContext") == {"CidrBlock": "10.0.0.0/16"}
    assert "BeforeContext" not in found["Vpc"]
    # The VPC is not made yet: its id is known only once the change set runs.
    assert context(found["SubnetA"], "AfterContext") == {"VpcId": KNOWN_AFTER_APPLY, "CidrBlock": "10.0.1.0/24"}
    role = context(found["Role"], "AfterContext")
    assert role["AssumeRolePolicyDocument"] == ROLE["Properties"]["AssumeRolePolicyDocument"]
    statement = role["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert statement["Resource"] == "arn:aws:secretsmanager:us-east-1:111111111111:secret:k"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceVpce": "vpce-0123"}}
    assert all("Replacement" not in c and c["Details"] == [] for c in found.values())


def test_a_resource_its_condition_leaves_out_is_not_listed(cfn):
    doc = json.loads(vpc_template({"Role": dict(ROLE, Condition="MakeRole")}))
    doc["Parameters"] = {"EndpointId": {"Type": "String"}, "Make": {"Type": "String"}}
    doc["Conditions"] = {"MakeRole": {"Fn::Equals": [{"Ref": "Make"}, "yes"]}}
    made(cfn, "review-condition", "no", json.dumps(doc), "CREATE", EndpointId="vpce-1", Make="no")
    assert "Role" not in changes(cfn, "review-condition", "no")
    made(cfn, "review-condition", "yes", json.dumps(doc), "CREATE", EndpointId="vpce-1", Make="yes")
    assert "Role" in changes(cfn, "review-condition", "yes")


def test_an_update_names_the_properties_that_change_and_which_replace(cfn):
    made(cfn, "review-update", "first", vpc_template(), "CREATE")
    cfn.execute_change_set(StackName="review-update", ChangeSetName="first")
    assert settle(cfn, "review-update") == "CREATE_COMPLETE"
    live = {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName="review-update")["StackResources"]}

    doc = json.loads(vpc_template())
    doc["Resources"]["SubnetA"]["Properties"]["CidrBlock"] = "10.0.2.0/24"
    doc["Resources"]["SecurityGroup"]["Properties"]["SecurityGroupIngress"] = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}]
    made(cfn, "review-update", "second", json.dumps(doc), "UPDATE")
    found = changes(cfn, "review-update", "second")
    assert set(found) == {"SubnetA", "SecurityGroup"}

    subnet = found["SubnetA"]
    assert subnet["Action"] == "Modify" and subnet["Replacement"] == "True"
    assert subnet["PhysicalResourceId"] == live["SubnetA"]
    assert subnet["Scope"] == ["Properties"]
    [detail] = subnet["Details"]
    assert detail["ChangeSource"] == "DirectModification"
    assert detail["Target"]["Attribute"] == "Properties"
    assert detail["Target"]["Name"] == "CidrBlock"
    assert detail["Target"]["RequiresRecreation"] == "Always"
    assert detail["Target"]["BeforeValue"] == "10.0.1.0/24"
    assert detail["Target"]["AfterValue"] == "10.0.2.0/24"
    # Both sides resolved: the VPC exists and stays, so its id is known before and after.
    assert context(subnet, "BeforeContext") == {"VpcId": live["Vpc"], "CidrBlock": "10.0.1.0/24"}
    assert context(subnet, "AfterContext") == {"VpcId": live["Vpc"], "CidrBlock": "10.0.2.0/24"}

    group = found["SecurityGroup"]
    assert group["Replacement"] == "False"
    [detail] = group["Details"]
    assert detail["Target"]["Name"] == "SecurityGroupIngress"
    assert detail["Target"]["RequiresRecreation"] == "Never"
    assert detail["Target"]["AttributeChangeType"] == "Add"
    assert "SecurityGroupIngress" not in context(group, "BeforeContext")
    assert context(group, "AfterContext")["SecurityGroupIngress"] == [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16"}]

    # Without property values AWS still says what is replaced and why, without the values.
    plain = changes(cfn, "review-update", "second", values=False)["SubnetA"]
    assert plain["Replacement"] == "True"
    assert plain["Details"][0]["Target"]["Name"] == "CidrBlock"
    assert "BeforeValue" not in plain["Details"][0]["Target"]
    assert "BeforeContext" not in plain and "AfterContext" not in plain


def test_a_removed_resource_shows_what_it_was(cfn):
    made(cfn, "review-remove", "first", vpc_template(), "CREATE")
    cfn.execute_change_set(StackName="review-remove", ChangeSetName="first")
    assert settle(cfn, "review-remove") == "CREATE_COMPLETE"
    doc = json.loads(vpc_template())
    del doc["Resources"]["SecurityGroup"]
    made(cfn, "review-remove", "second", json.dumps(doc), "UPDATE")
    group = changes(cfn, "review-remove", "second")["SecurityGroup"]
    assert group["Action"] == "Remove"
    assert context(group, "BeforeContext")["GroupDescription"] == "web"
    assert "AfterContext" not in group


def test_a_changed_parameter_modifies_what_refers_to_it_and_is_named_as_the_cause(cfn):
    doc = json.loads(vpc_template())
    doc["Parameters"] = {"SubnetCidr": {"Type": "String"}}
    doc["Resources"]["SubnetA"]["Properties"]["CidrBlock"] = {"Ref": "SubnetCidr"}
    made(cfn, "review-parameter", "first", json.dumps(doc), "CREATE", SubnetCidr="10.0.1.0/24")
    cfn.execute_change_set(StackName="review-parameter", ChangeSetName="first")
    assert settle(cfn, "review-parameter") == "CREATE_COMPLETE"

    made(cfn, "review-parameter", "second", json.dumps(doc), "UPDATE", SubnetCidr="10.0.2.0/24")
    found = changes(cfn, "review-parameter", "second")
    assert set(found) == {"SubnetA"}
    subnet = found["SubnetA"]
    assert subnet["Action"] == "Modify" and subnet["Replacement"] == "True"
    [detail] = subnet["Details"]
    assert detail["ChangeSource"] == "ParameterReference"
    assert detail["CausingEntity"] == "SubnetCidr"
    assert detail["Target"]["Name"] == "CidrBlock"
    assert detail["Target"]["RequiresRecreation"] == "Always"
    assert context(subnet, "BeforeContext")["CidrBlock"] == "10.0.1.0/24"
    assert context(subnet, "AfterContext")["CidrBlock"] == "10.0.2.0/24"


def test_asked_with_property_values_a_failed_change_set_gives_no_reason(cfn):
    made(cfn, "review-same", "first", vpc_template(), "CREATE")
    cfn.execute_change_set(StackName="review-same", ChangeSetName="first")
    assert settle(cfn, "review-same") == "CREATE_COMPLETE"
    cfn.create_change_set(StackName="review-same", ChangeSetName="same", ChangeSetType="UPDATE",
                          TemplateBody=vpc_template())
    plain = cfn.describe_change_set(StackName="review-same", ChangeSetName="same")
    assert plain["Status"] == "FAILED"
    assert "didn't contain changes" in plain["StatusReason"]
    valued = cfn.describe_change_set(StackName="review-same", ChangeSetName="same",
                                     IncludePropertyValues=True)
    assert valued["Status"] == "FAILED"
    assert "StatusReason" not in valued


def test_what_re_creates_a_resource_is_what_its_type_schema_makes_create_only():
    recreation = change_set_details.requires_recreation
    assert recreation("AWS::EC2::Subnet", "CidrBlock") == "Always"
    assert recreation("AWS::EC2::Subnet", "Tags") == "Never"
    assert recreation("AWS::IAM::Role", "RoleName") == "Always"
    assert recreation("AWS::IAM::Role", "AssumeRolePolicyDocument") == "Never"
    assert recreation("AWS::Lambda::Permission", "SourceArn") == "Always"
    assert recreation("AWS::ApiGateway::RestApi", "Policy") == "Never"
    # Only parts of the endpoint's DNS options are create-only.
    assert recreation("AWS::EC2::VPCEndpoint", "DnsOptions") == "Conditionally"
    assert recreation("Custom::Anything", "Whatever") == "Never"
