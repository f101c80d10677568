"""The IAM actions each account's calls needed, recorded as AWS would authorize them."""

from __future__ import annotations

from conftest import CONSUMER, PRODUCER


def test_each_protocol_is_recorded_as_its_iam_action_in_its_account(fresh):
    fresh.client("cloudformation", "producer").list_stacks()  # query protocol
    fresh.client("ec2", "consumer").describe_vpcs()  # EC2 query protocol
    fresh.client("secretsmanager", "consumer").list_secrets()  # JSON protocol
    fresh.client("kms", "consumer").list_keys()  # JSON, another target prefix
    fresh.client("apigateway", "producer").get_rest_apis()  # REST, by HTTP method
    fresh.client("sts", "producer").get_caller_identity()  # needs no permission
    seen = fresh.control("actions")
    assert seen[PRODUCER] == ["apigateway:GET", "cloudformation:ListStacks"]
    assert seen[CONSUMER] == ["ec2:DescribeVpcs", "kms:ListKeys", "secretsmanager:ListSecrets"]
    fresh.control("reset", {})
    assert fresh.control("actions") == {}
