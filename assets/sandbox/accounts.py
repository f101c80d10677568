"""The sandbox's two AWS accounts, each with one IAM user and a static access key.

moto maps an access key it issued to the account that issued it, so requests signed with
the producer's key act in 111111111111 and the consumer's in 222222222222. The key ids
are fixed so that a credentials file written once stays valid after a reset.
"""

from __future__ import annotations

from typing import Any

PRODUCER = "111111111111"
CONSUMER = "222222222222"

# Sandbox-only credentials: they open nothing outside this emulator.
KEYS = {
    PRODUCER: ("AKIAXWIZARDPRODUCER1", "xwizard-sandbox-producer-secret-key-0001"),
    CONSUMER: ("AKIAXWIZARDCONSUMER1", "xwizard-sandbox-consumer-secret-key-0002"),
}
ROLES = {PRODUCER: "producer", CONSUMER: "consumer"}
USER = "xwizard-sandbox"


def create() -> None:
    """(Re)create the users and keys in moto's IAM backends."""
    from moto.iam.models import iam_backends

    for account_id, (key_id, secret) in KEYS.items():
        iam = iam_backends[account_id]["global"]
        if key_id in iam.access_keys:
            continue
        if USER not in iam.users:
            iam.create_user(region_name="us-east-1", user_name=USER, path="/", tags=[])
        key = iam.create_access_key(USER)
        del iam.access_keys[key.physical_resource_id]
        key.access_key_id = key_id
        key.secret_access_key = secret
        iam.access_keys[key.physical_resource_id] = key


def describe() -> dict[str, dict[str, str]]:
    return {
        ROLES[account_id]: {
            "account_id": account_id,
            "aws_access_key_id": key_id,
            "aws_secret_access_key": secret,
        }
        for account_id, (key_id, secret) in KEYS.items()
    }


def install(_ctx: Any) -> dict[str, dict[str, str]]:
    create()
    return describe()
