"""AWS managed policies exist in every account, as in AWS, without being created."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

PUSH_TO_LOGS = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


@pytest.mark.parametrize("role", ["producer", "consumer"])
def test_an_aws_managed_policy_attaches_in_every_account(fresh, role):
    iam = fresh.client("iam", role)
    iam.create_role(RoleName="logs", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="logs", PolicyArn=PUSH_TO_LOGS)
    attached = iam.list_attached_role_policies(RoleName="logs")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonAPIGatewayPushToCloudWatchLogs",
                         "PolicyArn": PUSH_TO_LOGS}]
    policy = iam.get_policy(PolicyArn=PUSH_TO_LOGS)["Policy"]
    assert policy["Path"] == "/service-role/" and policy["AttachmentCount"] == 1
    # Detaching and deleting the role work as for any policy.
    iam.detach_role_policy(RoleName="logs", PolicyArn=PUSH_TO_LOGS)
    iam.delete_role(RoleName="logs")


def test_a_made_up_or_misplaced_aws_policy_is_refused_as_aws_refuses_it(fresh):
    iam = fresh.client("iam", "producer")
    iam.create_role(RoleName="logs", AssumeRolePolicyDocument=TRUST)
    for arn in ["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere",
                "arn:aws:iam::aws:policy/AmazonAPIGatewayPushToCloudWatchLogs"]:  # wrong path
        with pytest.raises(ClientError) as refused:
            iam.attach_role_policy(RoleName="logs", PolicyArn=arn)
        assert refused.value.response["Error"]["Code"] == "NoSuchEntity"
        with pytest.raises(ClientError) as refused:
            iam.get_policy(PolicyArn=arn)
        assert refused.value.response["Error"]["Code"] == "NoSuchEntity"
