"""RotateSecret through a rotation Lambda that really runs (secrets_rotation.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import wait_until
from test_data_plane import python_function

# The four-step function of the consumer-vpc template, with a switch to fail a step.
ROTATION_CODE = """
import os
import boto3

sm = boto3.client("secretsmanager")


def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step == os.environ.get("FAIL_AT"):
        raise RuntimeError(f"{step} failed")
    meta = sm.describe_secret(SecretId=arn)
    stages = meta["VersionIdsToStages"].get(token)
    if not meta.get("RotationEnabled") or stages is None:
        raise ValueError("secret is not set up to rotate this version")
    if "AWSCURRENT" in stages:
        return
    if "AWSPENDING" not in stages:
        raise ValueError("version is not AWSPENDING")
    if step == "createSecret":
        try:
            sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except sm.exceptions.ResourceNotFoundException:
            value = sm.get_random_password(PasswordLength=32, ExcludePunctuation=True)
            sm.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                SecretString=value["RandomPassword"], VersionStages=["AWSPENDING"])
    elif step == "finishSecret":
        current = next(v for v, s in meta["VersionIdsToStages"].items() if "AWSCURRENT" in s)
        sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                       MoveToVersionId=token, RemoveFromVersionId=current)
"""


def _secret_and_rotator(sb, fail_at=None):
    sm = sb.client("secretsmanager", "consumer")
    arn = sm.create_secret(Name="api-key", SecretString="first-value")["ARN"]
    env = {"FAIL_AT": fail_at} if fail_at else {}
    fn = python_function(sb, "consumer", "rotator", ROTATION_CODE, env=env)
    return sm, arn, fn


def _stages(sm, arn):
    return sm.describe_secret(SecretId=arn)["VersionIdsToStages"]


def test_successful_rotation_changes_the_value_through_the_function(fresh):
    sm, arn, fn = _secret_and_rotator(fresh)
    old_version = sm.get_secret_value(SecretId=arn)["VersionId"]

    token = "11111111-2222-3333-4444-555555555555"
    answer = sm.rotate_secret(SecretId=arn, RotationLambdaARN=fn, ClientRequestToken=token,
                              RotationRules={"AutomaticallyAfterDays": 7})
    assert answer["VersionId"] == token

    def rotated():
        # Readable at every moment of the rotation.
        value = sm.get_secret_value(SecretId=arn)
        return value if value["VersionId"] == token else None

    current = wait_until(rotated, what="the function's finishSecret")
    assert current["SecretString"] != "first-value" and len(current["SecretString"]) == 32
    assert "AWSCURRENT" in current["VersionStages"]
    stages = _stages(sm, arn)
    assert stages[old_version] == ["AWSPREVIOUS"]
    assert sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == "first-value"
    # The rotation is over once finishSecret has returned.
    described = wait_until(lambda: (d := sm.describe_secret(SecretId=arn)).get("LastRotatedDate") and d,
                           what="the rotation to be recorded")
    assert described["RotationEnabled"] is True and described["RotationLambdaARN"] == fn

    # A finished rotation leaves nothing pending: the next one is accepted and works too.
    second = sm.rotate_secret(SecretId=arn)["VersionId"]
    wait_until(lambda: sm.get_secret_value(SecretId=arn)["VersionId"] == second,
               what="the second rotation")
    assert sm.get_secret_value(SecretId=arn)["SecretString"] != current["SecretString"]


@pytest.mark.parametrize("fail_at", ["createSecret", "setSecret", "finishSecret"])
def test_failed_rotation_keeps_the_current_value_readable(fresh, fail_at):
    sm, arn, fn = _secret_and_rotator(fresh, fail_at=fail_at)
    old_version = sm.get_secret_value(SecretId=arn)["VersionId"]
    token = sm.rotate_secret(SecretId=arn, RotationLambdaARN=fn,
                             RotationRules={"AutomaticallyAfterDays": 7})["VersionId"]
    assert token != old_version
    # The pending version exists, labelled AWSPENDING, from the start.
    assert _stages(sm, arn)[token] == ["AWSPENDING"]

    logs = fresh.client("logs", "consumer")

    def failed():
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/rotator")["events"]
        except logs.exceptions.ResourceNotFoundException:  # nothing logged yet
            return False
        return any(f"{fail_at} failed" in e["message"] for e in events)

    wait_until(failed, what=f"the function to fail at {fail_at}")
    value = sm.get_secret_value(SecretId=arn)
    assert value["VersionId"] == old_version and value["SecretString"] == "first-value"
    assert "AWSCURRENT" in _stages(sm, arn)[old_version]
    assert "AWSPENDING" in _stages(sm, arn)[token]

    # As on AWS, the unfinished rotation blocks a new one.
    with pytest.raises(ClientError) as err:
        sm.rotate_secret(SecretId=arn)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "previous rotation isn't complete" in err.value.response["Error"]["Message"]


def test_rotation_without_immediate_rotation_only_tests_the_configuration(fresh):
    sm, arn, fn = _secret_and_rotator(fresh)
    old_version = sm.get_secret_value(SecretId=arn)["VersionId"]
    sm.rotate_secret(SecretId=arn, RotationLambdaARN=fn, RotateImmediately=False,
                     RotationRules={"AutomaticallyAfterDays": 7})
    assert _stages(sm, arn) == {old_version: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "first-value"
    assert sm.describe_secret(SecretId=arn)["RotationEnabled"] is True
