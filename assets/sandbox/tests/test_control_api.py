import json
import botocore.config
import botocore.exceptions
import pytest

from conftest import CONSUMER, PRODUCER


def test_accounts_are_distinct(fresh):
    assert fresh.client("sts", "producer").get_caller_identity()["Account"] == PRODUCER
    assert fresh.client("sts", "consumer").get_caller_identity()["Account"] == CONSUMER


def test_reset_keeps_accounts_and_forgets_resources(fresh):
    ec2 = fresh.client("ec2", "producer")
    ec2.create_vpc(CidrBlock="10.9.0.0/16")
    before = len(ec2.describe_vpcs()["Vpcs"])
    fresh.control("reset", {})
    assert len(ec2.describe_vpcs()["Vpcs"]) == before - 1
    assert fresh.client("sts", "producer").get_caller_identity()["Account"] == PRODUCER


def test_throttle_query_and_json_operations(fresh):
    fresh.control("faults/throttle", {"service": "cloudformation", "operation": "ListStacks", "count": 1})
    no_retry = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    import boto3

    acct = fresh.info["accounts"]["producer"]
    cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=fresh.endpoint_url,
                       aws_access_key_id=acct["aws_access_key_id"],
                       aws_secret_access_key=acct["aws_secret_access_key"], config=no_retry)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        cfn.list_stacks()
    assert err.value.response["Error"]["Code"] == "Throttling"
    cfn.list_stacks()  # the fault fired once

    fresh.control("faults/throttle", {"service": "secretsmanager", "operation": "ListSecrets", "count": 1})
    sm = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=fresh.endpoint_url,
                      aws_access_key_id=acct["aws_access_key_id"],
                      aws_secret_access_key=acct["aws_secret_access_key"], config=no_retry)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sm.list_secrets()
    assert err.value.response["Error"]["Code"] == "ThrottlingException"


def test_expired_credentials_refuse_every_call_of_that_account_until_renewed(fresh):
    fresh.control("faults/expire-credentials", {"account": "producer"})
    expected = {
        "cloudformation": ("list_stacks", "ExpiredToken"),
        "ec2": ("describe_vpcs", "RequestExpired"),
        "secretsmanager": ("list_secrets", "ExpiredTokenException"),
        "apigateway": ("get_rest_apis", "ExpiredTokenException"),
        "s3": ("list_buckets", "ExpiredToken"),
    }
    for service, (call, code) in expected.items():
        with pytest.raises(botocore.exceptions.ClientError) as err:
            getattr(fresh.client(service, "producer"), call)()
        assert err.value.response["Error"]["Code"] == code, service
    # The other account is untouched.
    fresh.client("cloudformation", "consumer").list_stacks()
    fresh.control("faults/renew-credentials", {"account": "111111111111"})
    for service, (call, _) in expected.items():
        getattr(fresh.client(service, "producer"), call)()


def test_bad_control_request_is_explained(fresh):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as err:
        fresh.control("faults/throttle", {"service": "ec2"})
    assert err.value.code == 400
    assert "operation" in err.value.read().decode()


def test_releasing_a_stack_that_is_not_held_is_refused(fresh):
    import urllib.error

    fresh.control("faults/hold-stack", {"stack_name": "kept"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        fresh.control("faults/release-stack", {"stack_name": "no-such-stack"})
    assert refused.value.code == 400
    body = json.loads(refused.value.read())
    assert "no-such-stack is not held" in body["error"] and "kept" in body["error"]
    fresh.control("faults/release-stack", {"stack_name": "kept"})
