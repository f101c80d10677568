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


def test_each_call_is_counted_with_its_time_and_the_stack_it_names(fresh):
    cfn = fresh.client("cloudformation", "consumer")
    cfn.list_stacks()
    for name in ("counted", f"arn:aws:cloudformation:us-east-1:{CONSUMER}:stack/counted/1234"):
        try:
            cfn.describe_stacks(StackName=name)
        except cfn.exceptions.ClientError:
            pass  # no such stack: the call is counted all the same
    calls = fresh.control("calls")
    assert [(c["account"], c["action"], c["stack"]) for c in calls] == [
        (CONSUMER, "cloudformation:ListStacks", ""),
        (CONSUMER, "cloudformation:DescribeStacks", "counted"),
        (CONSUMER, "cloudformation:DescribeStacks", "counted"),
    ]
    assert calls[0]["t"] <= calls[1]["t"] <= calls[2]["t"]
    fresh.control("reset", {})
    assert fresh.control("calls") == []
