"""MFA in STS: trust policies that demand it, one-time codes, MFA sessions and the fault that
refuses codes."""

import boto3
import botocore.exceptions
import pytest

from conftest import CONSUMER, PRODUCER

ROLE = f"arn:aws:iam::{PRODUCER}:role/xwizard-sandbox-mfa"
CONSUMER_ROLE = f"arn:aws:iam::{CONSUMER}:role/xwizard-sandbox-mfa"
SERIAL = f"arn:aws:iam::{PRODUCER}:mfa/xwizard-sandbox"
USER = f"arn:aws:iam::{PRODUCER}:user/xwizard-sandbox"


def refused(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]


def sts_with(sandbox, creds):
    return boto3.client("sts", region_name="us-east-1", endpoint_url=sandbox.endpoint_url,
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])


def test_each_account_has_an_mfa_device_and_an_mfa_guarded_role(fresh):
    for role, account in (("producer", PRODUCER), ("consumer", CONSUMER)):
        iam = fresh.client("iam", role)
        trust = iam.get_role(RoleName="xwizard-sandbox-mfa")["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        devices = iam.list_mfa_devices(UserName="xwizard-sandbox")["MFADevices"]
        assert [d["SerialNumber"] for d in devices] == [f"arn:aws:iam::{account}:mfa/xwizard-sandbox"]


def test_assume_role_without_mfa_is_refused_as_aws_refuses_it(fresh):
    error = refused(fresh.client("sts", "producer").assume_role, RoleArn=ROLE, RoleSessionName="run")
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: {USER} is not authorized to perform: sts:AssumeRole on resource: {ROLE}")


def test_assume_role_with_a_code_names_the_role(fresh):
    sts = fresh.client("sts", "producer")
    creds = sts.assume_role(RoleArn=ROLE, RoleSessionName="run", SerialNumber=SERIAL,
                            TokenCode="123456")["Credentials"]
    assert sts_with(fresh, creds).get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{PRODUCER}:assumed-role/xwizard-sandbox-mfa/run")


# boto3 itself refuses a code of another length before sending it; a letter reaches AWS.
@pytest.mark.parametrize("code,constraint", [
    ("12345a", "Member must satisfy regular expression pattern: [\\d]*"),
])
def test_a_code_that_is_not_six_digits_is_a_validation_error(fresh, code, constraint):
    error = refused(fresh.client("sts", "producer").assume_role, RoleArn=ROLE, RoleSessionName="run",
                    SerialNumber=SERIAL, TokenCode=code)
    assert error["Code"] == "ValidationError"
    assert error["Message"].endswith(constraint)


def test_an_mfa_session_assumes_guarded_roles_in_both_accounts_with_one_code(fresh):
    sts = fresh.client("sts", "producer")
    session = sts.get_session_token(SerialNumber=SERIAL, TokenCode="123456")["Credentials"]
    assert session["AccessKeyId"].startswith("ASIA")
    mfa = sts_with(fresh, session)
    assert mfa.get_caller_identity()["Arn"] == USER
    for role, account in ((ROLE, PRODUCER), (CONSUMER_ROLE, CONSUMER)):
        creds = mfa.assume_role(RoleArn=role, RoleSessionName="run")["Credentials"]
        assert sts_with(fresh, creds).get_caller_identity()["Account"] == account


def test_a_session_without_mfa_does_not_count_as_mfa(fresh):
    session = fresh.client("sts", "producer").get_session_token()["Credentials"]
    error = refused(sts_with(fresh, session).assume_role, RoleArn=ROLE, RoleSessionName="run")
    assert error["Code"] == "AccessDenied"


def test_session_credentials_cannot_get_a_session_token(fresh):
    session = fresh.client("sts", "producer").get_session_token()["Credentials"]
    error = refused(sts_with(fresh, session).get_session_token)
    assert error["Message"] == "Cannot call GetSessionToken with session credentials"


def test_the_mfa_reject_fault_refuses_the_next_codes_then_lets_them_pass(fresh):
    assert fresh.control("faults/mfa-reject", {"count": 2})["mfa_reject_codes"] == 2
    sts = fresh.client("sts", "producer")
    for call, kwargs in ((sts.get_session_token, {}),
                         (sts.assume_role, {"RoleArn": ROLE, "RoleSessionName": "run"})):
        error = refused(call, SerialNumber=SERIAL, TokenCode="123456", **kwargs)
        assert error == {"Type": "Sender", "Code": "AccessDenied", "Message":
                         "MultiFactorAuthentication failed with invalid MFA one time pass code."}
    sts.get_session_token(SerialNumber=SERIAL, TokenCode="123456")


def test_roles_without_an_mfa_condition_are_assumed_as_before(fresh):
    iam = fresh.client("iam", "producer")
    iam.create_role(RoleName="plain", AssumeRolePolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},'
        '"Action":"sts:AssumeRole"}]}'))
    fresh.client("sts", "producer").assume_role(
        RoleArn=f"arn:aws:iam::{PRODUCER}:role/plain", RoleSessionName="run")


def test_reset_keeps_the_mfa_role(fresh):
    fresh.control("reset", {})
    fresh.client("iam", "consumer").get_role(RoleName="xwizard-sandbox-mfa")
