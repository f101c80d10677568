"""Cross-account secret reads follow the resource policy and the KMS key, as in AWS."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from conftest import CONSUMER, PRODUCER

ROOT = "arn:aws:iam::{}:root"


def _key_policy(*decrypt_accounts: str) -> str:
    statements = [{
        "Sid": "OwnerAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": ROOT.format(PRODUCER)},
        "Action": "kms:*",
        "Resource": "*",
    }]
    if decrypt_accounts:
        statements.append({
            "Sid": "OtherAccountsDecryptThroughSecretsManager",
            "Effect": "Allow",
            "Principal": {"AWS": [ROOT.format(a) for a in decrypt_accounts]},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _secret_policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(principal: str, action="secretsmanager:GetSecretValue") -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"}


def _producer_secret(sandbox, *, policy: str | None, customer_key: bool = True,
                     key_accounts: tuple[str, ...] = (CONSUMER,)) -> str:
    sm = sandbox.client("secretsmanager", "producer")
    kwargs = {}
    if customer_key:
        kms = sandbox.client("kms", "producer")
        key = kms.create_key(Policy=_key_policy(*key_accounts), Description="api key secret")
        kwargs["KmsKeyId"] = key["KeyMetadata"]["Arn"]
    arn = sm.create_secret(Name="api-key", SecretString="s3cr3t-value", **kwargs)["ARN"]
    if policy is not None:
        sm.put_resource_policy(SecretId=arn, ResourcePolicy=policy)
    return arn


def _denied(call) -> str:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == "AccessDeniedException", err.value.response
    return err.value.response["Error"]["Message"]


def test_allowed_consumer_reads_producer_secret(fresh):
    arn = _producer_secret(fresh, policy=_secret_policy(
        _allow(ROOT.format(CONSUMER), ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"])))
    sm = fresh.client("secretsmanager", "consumer")

    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "s3cr3t-value"
    described = sm.describe_secret(SecretId=arn)
    assert described["ARN"] == arn and described["Name"] == "api-key"
    # The consumer's own account holds no such secret: the read really crossed accounts.
    assert sm.list_secrets()["SecretList"] == []


def test_wildcard_action_and_account_id_principal_are_honoured(fresh):
    arn = _producer_secret(fresh, policy=_secret_policy(_allow(CONSUMER, "secretsmanager:*")))
    sm = fresh.client("secretsmanager", "consumer")
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "s3cr3t-value"
    assert json.loads(sm.get_resource_policy(SecretId=arn)["ResourcePolicy"])["Statement"]


def test_user_arn_principal_allows_only_that_user(fresh):
    user_arn = fresh.client("sts", "consumer").get_caller_identity()["Arn"]
    arn = _producer_secret(fresh, policy=_secret_policy(_allow(user_arn)))
    assert fresh.client("secretsmanager", "consumer").get_secret_value(SecretId=arn)["SecretString"]

    other = _producer_secret_named(fresh, "other", _secret_policy(
        _allow(f"arn:aws:iam::{CONSUMER}:user/someone-else")))
    _denied(lambda: fresh.client("secretsmanager", "consumer").get_secret_value(SecretId=other))


def _producer_secret_named(sandbox, name: str, policy: str) -> str:
    kms = sandbox.client("kms", "producer")
    key = kms.create_key(Policy=_key_policy(CONSUMER))["KeyMetadata"]["Arn"]
    sm = sandbox.client("secretsmanager", "producer")
    arn = sm.create_secret(Name=name, SecretString="x", KmsKeyId=key)["ARN"]
    sm.put_resource_policy(SecretId=arn, ResourcePolicy=policy)
    return arn


def test_policy_for_another_account_denies_the_consumer(fresh):
    arn = _producer_secret(fresh, policy=_secret_policy(_allow(ROOT.format("333333333333"))))
    sm = fresh.client("secretsmanager", "consumer")
    message = _denied(lambda: sm.get_secret_value(SecretId=arn))
    assert message == (
        f"User: arn:aws:iam::{CONSUMER}:user/xwizard-sandbox is not authorized to perform: "
        f"secretsmanager:GetSecretValue on resource: {arn} because no resource-based policy "
        "allows the secretsmanager:GetSecretValue action"
    )
    _denied(lambda: sm.describe_secret(SecretId=arn))


def test_no_resource_policy_denies_other_accounts(fresh):
    arn = _producer_secret(fresh, policy=None)
    sm = fresh.client("secretsmanager", "consumer")
    assert "no resource-based policy allows" in _denied(lambda: sm.get_secret_value(SecretId=arn))
    # The owner still reads it: same-account access needs no resource policy.
    owner = fresh.client("secretsmanager", "producer")
    assert owner.get_secret_value(SecretId=arn)["SecretString"] == "s3cr3t-value"


def test_explicit_deny_wins_for_other_and_same_account(fresh):
    arn = _producer_secret(fresh, policy=_secret_policy(
        _allow(ROOT.format(CONSUMER), "secretsmanager:*"),
        {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
         "Resource": "*"},
    ))
    consumer = fresh.client("secretsmanager", "consumer")
    assert "with an explicit deny in a resource-based policy" in _denied(
        lambda: consumer.get_secret_value(SecretId=arn))
    # DescribeSecret is not denied, so it is still allowed across accounts.
    assert consumer.describe_secret(SecretId=arn)["ARN"] == arn

    producer = fresh.client("secretsmanager", "producer")
    message = _denied(lambda: producer.get_secret_value(SecretId="api-key"))
    assert message.startswith(f"User: arn:aws:iam::{PRODUCER}:user/xwizard-sandbox ")


def test_aws_managed_key_cannot_be_read_across_accounts(fresh):
    arn = _producer_secret(fresh, customer_key=False, policy=_secret_policy(
        _allow(ROOT.format(CONSUMER), "secretsmanager:*")))
    sm = fresh.client("secretsmanager", "consumer")
    message = _denied(lambda: sm.get_secret_value(SecretId=arn))
    assert "default KMS service key" in message
    # Describing needs no decryption, so the resource policy alone allows it.
    assert sm.describe_secret(SecretId=arn)["Name"] == "api-key"


def test_key_policy_must_allow_the_consumer_to_decrypt(fresh):
    arn = _producer_secret(fresh, key_accounts=(), policy=_secret_policy(
        _allow(ROOT.format(CONSUMER))))
    sm = fresh.client("secretsmanager", "consumer")
    assert _denied(lambda: sm.get_secret_value(SecretId=arn)) == "Access to KMS is not allowed"


def test_missing_secret_in_other_account_is_access_denied(fresh):
    arn = f"arn:aws:secretsmanager:us-east-1:{PRODUCER}:secret:does-not-exist-AbCdEf"
    sm = fresh.client("secretsmanager", "consumer")
    _denied(lambda: sm.get_secret_value(SecretId=arn))
    # In the caller's own account a missing secret stays ResourceNotFoundException.
    with pytest.raises(ClientError) as err:
        sm.get_secret_value(SecretId="does-not-exist")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_policy_evaluation_is_reusable_for_roles():
    import secrets_cross_account as sca

    role = sca.Caller.for_role(f"arn:aws:iam::{CONSUMER}:role/consumer-fn")
    policy = _secret_policy(_allow(f"arn:aws:iam::{CONSUMER}:role/consumer-fn"))
    assert sca.evaluate_policy(policy, role, "secretsmanager:GetSecretValue", "arn:x") == sca.ALLOW
    assert sca.evaluate_policy(policy, role, "secretsmanager:PutSecretValue", "arn:x") == sca.NOT_APPLICABLE
    other = sca.Caller(account_id=CONSUMER, arn=f"arn:aws:iam::{CONSUMER}:user/u")
    assert sca.evaluate_policy(policy, other, "secretsmanager:GetSecretValue", "arn:x") == sca.NOT_APPLICABLE
    deny = _secret_policy({"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:Get*",
                           "Resource": "*", "Condition": {
                               "StringNotEquals": {"aws:PrincipalAccount": PRODUCER}}})
    assert sca.evaluate_policy(deny, role, "secretsmanager:GetSecretValue", "arn:x") == sca.DENY
