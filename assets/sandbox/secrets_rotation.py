"""Secrets Manager rotation through a rotation Lambda, following AWS's protocol.

moto 5.2.5's RotateSecret got the protocol wrong in ways a real rotation function notices:
- it created the new version without staging it for the function to fill in the way AWS does,
  ignored the function's answers, and moved AWSCURRENT to the new version itself after the four
  steps, so a failed rotation left the secret with a current version that has no value;
- it refused to rotate when AWSPENDING sat on the AWSCURRENT version (a finished rotation) and
  allowed it when AWSPENDING sat on another version (an unfinished one): the reverse of AWS;
- UpdateSecretVersionStage moving AWSCURRENT, which is how a function's finishSecret step ends a
  rotation, did not change the version GetSecretValue returns by default.

What AWS does, and this module does, when RotateSecret rotates through a Lambda:
1. refuse if AWSPENDING is attached to a version other than the AWSCURRENT one ("A previous
   rotation isn't complete");
2. record the rotation configuration (function, rules, next rotation date);
3. create a version whose id is the ClientRequestToken (a new UUID when none is given) with the
   AWSPENDING label and no value yet, and answer with that VersionId at once: rotation is
   asynchronous;
4. invoke the function with {Step, SecretId (the ARN), ClientRequestToken} for createSecret,
   setSecret, testSecret, finishSecret in turn, stopping at the first step that fails. Only the
   function moves AWSCURRENT (in finishSecret); if it fails, AWSCURRENT stays on the old version,
   which stays readable, and AWSPENDING stays on the new one until the rotation is retried.
With RotateImmediately=false AWS only tests the configuration: it runs testSecret against an
AWSPENDING copy of the current value, then removes that version.

The function runs through lambda_runtime.py (Python handlers for real; any other function
answers with an error, so its rotation fails, as one that cannot run would on AWS). Not played:
AWS's retries of a failed rotation, scheduled rotations, managed rotation. A RotateSecret
without any rotation function keeps moto's behaviour.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def _rotation_config(secret: Any, lambda_arn: str, rules: dict[str, Any] | None) -> None:
    from moto.secretsmanager.exceptions import InvalidParameterException

    days = (rules or {}).get("AutomaticallyAfterDays")
    if days is not None and not 1 <= int(days) <= 1000:
        raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
    secret.rotation_lambda_arn = lambda_arn
    secret.rotation_requested = True
    # A secret with a rotation function rotates on a schedule: RotateSecret turns that on.
    secret.rotation_enabled = True
    if days is not None:
        secret.auto_rotate_after_days = int(days)
    if secret.auto_rotate_after_days:
        secret.next_rotation_date = int(time.time()) + int(secret.auto_rotate_after_days) * 86400


def _unfinished_rotation(secret: Any) -> bool:
    return any(
        "AWSPENDING" in version["version_stages"] and "AWSCURRENT" not in version["version_stages"]
        for version in secret.versions.values()
    )


def invoke_step(fn: Any, secret_arn: str, token: str, step: str) -> bool:
    """Run one rotation step; True when the function answered without an error."""
    import lambda_runtime

    event = {"Step": step, "SecretId": secret_arn, "ClientRequestToken": token}
    return lambda_runtime.invoke_function(fn, event).function_error is None


def _rotate(fn: Any, secret: Any, token: str) -> None:
    for step in ROTATION_STEPS:
        if not invoke_step(fn, secret.arn, token, step):
            return  # AWSCURRENT stays where it was; AWSPENDING marks the unfinished rotation
    secret.last_rotation_date = int(time.time())
    if secret.auto_rotate_after_days:
        secret.next_rotation_date = secret.last_rotation_date + int(secret.auto_rotate_after_days) * 86400


def _test_configuration(backend: Any, fn: Any, secret: Any, token: str) -> None:
    version: dict[str, Any] = {"createdate": int(time.time()), "version_id": token,
                               "version_stages": ["AWSPENDING"]}
    current = secret.versions.get(secret.default_version_id) or {}
    for key in ("secret_string", "secret_binary"):
        if key in current:
            version[key] = current[key]
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = version
    try:
        invoke_step(fn, secret.arn, token, "testSecret")
    finally:
        secret.versions.pop(token, None)


def _rotate_secret(original: Any) -> Any:
    def rotate_secret(
        self: Any,
        secret_id: str,
        client_request_token: str | None = None,
        rotation_lambda_arn: str | None = None,
        rotation_rules: dict[str, Any] | None = None,
        rotate_immediately: bool = True,
    ) -> str:
        from moto.awslambda.utils import get_backend
        from moto.moto_api._internal import mock_random
        from moto.secretsmanager.exceptions import (
            InvalidParameterException,
            InvalidRequestException,
            ResourceNotFoundException,
            SecretNotFoundException,
        )
        from moto.secretsmanager.models import ReplicaSecret

        if not self._is_valid_identifier(secret_id):
            raise SecretNotFoundException()
        secret = self.secrets[secret_id]
        lambda_arn = rotation_lambda_arn or getattr(secret, "rotation_lambda_arn", "") or ""
        if not lambda_arn or isinstance(secret, ReplicaSecret) or secret.is_deleted():
            return original(self, secret_id, client_request_token, rotation_lambda_arn,
                            rotation_rules, rotate_immediately)
        if len(lambda_arn) > 2048:
            raise InvalidParameterException("RotationLambdaARN must <= 2048 characters long.")
        if _unfinished_rotation(secret):
            raise InvalidRequestException(
                "A previous rotation isn't complete. That rotation will be reattempted."
            )
        try:
            fn = get_backend(self.account_id, self.region_name).get_function(lambda_arn)
        except Exception:
            raise ResourceNotFoundException(f"Resource not found for ARN '{lambda_arn}'.") from None
        if client_request_token:
            self._client_request_token_validator(client_request_token)
        token = client_request_token or str(mock_random.uuid4())
        if token in secret.versions:
            raise InvalidRequestException(
                f"You can't use ClientRequestToken {token} because that value is already in use "
                f"for a version of secret {secret.arn}."
            )
        _rotation_config(secret, lambda_arn, rotation_rules)

        if not rotate_immediately:
            _test_configuration(self, fn, secret, token)
            return secret.to_short_dict()

        # The new version exists, labelled AWSPENDING and without a value, before the function
        # is first called: the function checks its token against VersionIdsToStages.
        secret.remove_version_stages_from_old_versions(["AWSPENDING"])
        secret.versions[token] = {"createdate": int(time.time()), "version_id": token,
                                  "version_stages": ["AWSPENDING"]}
        threading.Thread(target=_rotate, args=(fn, secret, token), name=f"rotate-{secret.name}",
                         daemon=True).start()
        return json.dumps({"ARN": secret.arn, "Name": secret.name, "VersionId": token})

    rotate_secret._sandbox_patched = True  # type: ignore[attr-defined]
    return rotate_secret


def _moving_awscurrent_changes_the_default(original: Any) -> Any:
    def update_secret_version_stage(
        self: Any, secret_id: str, version_stage: str, remove_from_version_id: str,
        move_to_version_id: str,
    ) -> Any:
        result = original(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].default_version_id = move_to_version_id
        return result

    update_secret_version_stage._sandbox_patched = True  # type: ignore[attr-defined]
    return update_secret_version_stage


def install(_ctx: Any) -> None:
    from moto.secretsmanager.models import SecretsManagerBackend

    if getattr(SecretsManagerBackend.rotate_secret, "_sandbox_patched", False):
        return
    SecretsManagerBackend.rotate_secret = _rotate_secret(SecretsManagerBackend.rotate_secret)
    SecretsManagerBackend.update_secret_version_stage = _moving_awscurrent_changes_the_default(
        SecretsManagerBackend.update_secret_version_stage
    )
