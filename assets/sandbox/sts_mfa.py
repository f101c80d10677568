"""MFA in STS, as AWS enforces it: trust policies that require MFA, one-time codes and MFA
sessions.

moto's AssumeRole never reads a role's trust policy, and its GetSessionToken hands out one
fixed key that belongs to no account. Here:

- AssumeRole on a role whose trust policy has a `Bool` or `BoolIfExists` condition
  `aws:MultiFactorAuthPresent: true` is refused as AWS refuses it ("User: <caller> is not
  authorized to perform: sts:AssumeRole on resource: <role>", AccessDenied) unless the call
  carries SerialNumber and TokenCode, or is signed with an MFA session's credentials;
- a TokenCode that is not 6 digits is refused with AWS's ValidationError;
- GetSessionToken makes real temporary credentials of the caller's account, marked
  MFA-present when SerialNumber and TokenCode were given; GetCallerIdentity names the IAM
  user for them, as AWS does;
- the fault `faults/mfa-reject` (fault_injection.py) makes the next N codes fail with
  "MultiFactorAuthentication failed with invalid MFA one time pass code." (AccessDenied).

Every code that is 6 digits is otherwise accepted: the sandbox has no device to compare with.
Each account also gets an MFA device for its user and a role only an MFA session may assume
(`ROLE_NAME`), which `xwizard sandbox up` writes profiles for.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import threading
import uuid
from typing import Any, Callable
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import accounts
import control_api
import fault_injection

ROLE_NAME = "xwizard-sandbox-mfa"
DEVICE_NAME = "xwizard-sandbox"
MFA_KEY = "aws:MultiFactorAuthPresent"

_lock = threading.Lock()
# Access key id of each GetSessionToken session -> (user arn, account id, MFA present).
_sessions: dict[str, tuple[str, str, bool]] = {}


def serial_of(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:mfa/{DEVICE_NAME}"


def role_arn_of(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{ROLE_NAME}"


def create() -> None:
    """(Re)create each account's MFA device and MFA-guarded role; after a reset, too."""
    from moto.iam.models import iam_backends

    trusted = [f"arn:aws:iam::{account_id}:root" for account_id in accounts.KEYS]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": trusted},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {MFA_KEY: "true"}},
        }],
    }
    for account_id in accounts.KEYS:
        iam = iam_backends[account_id]["global"]
        if ROLE_NAME not in [r.name for r in iam.get_roles()]:
            iam.create_role(ROLE_NAME, json.dumps(trust), "/", None,
                            "Assumed with an MFA code (xwizard sandbox)", [], None)
        if serial_of(account_id) not in iam.virtual_mfa_devices:
            iam.create_virtual_mfa_device(DEVICE_NAME, "/")
            iam.enable_mfa_device(accounts.USER, serial_of(account_id), "123456", "654321")


def _reset() -> None:
    with _lock:
        _sessions.clear()
    # The control API recreates the accounts after its hooks: the users must exist first.
    accounts.create()
    create()


def requires_mfa(trust_policy: str | dict[str, Any]) -> bool:
    """Whether an Allow statement of the trust policy demands MFA (Bool/BoolIfExists true)."""
    doc = json.loads(trust_policy) if isinstance(trust_policy, str) else trust_policy
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        for operator in ("Bool", "BoolIfExists"):
            values = statement.get("Condition", {}).get(operator, {})
            for key, value in values.items():
                wanted = value if isinstance(value, list) else [value]
                if key.lower() == MFA_KEY.lower() and any(str(v).lower() == "true" for v in wanted):
                    return True
    return False


def _caller(access_key_id: str, region: str) -> tuple[str, str, bool]:
    """(caller arn, account id, MFA present) of a request's access key."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    with _lock:
        if access_key_id in _sessions:
            return _sessions[access_key_id]
    account_id = get_account_id_from(access_key_id)
    _, arn, account_id = sts_backends[account_id]["aws"].get_caller_identity(access_key_id, region)
    return arn, account_id, False


def _role_trust(role_arn: str) -> str | None:
    from moto.iam.models import iam_backends

    match = re.match(r"arn:aws:iam::(\d{12}):role/", role_arn)
    if not match:
        return None
    try:
        return iam_backends[match.group(1)]["global"].get_role_by_arn(role_arn).assume_role_policy_document
    except Exception:  # moto lets a missing role be assumed; so does this module
        return None


def _error(status: str, code: str, message: str) -> tuple[str, bytes]:
    body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()
    return status, body


def _check_code(params: dict[str, str]) -> tuple[str, bytes] | None:
    """AWS's answer to a bad TokenCode, or None when the code passes."""
    code = params.get("TokenCode")
    if code is None:
        return None
    if not re.fullmatch(r"\d{6}", code):
        # AWS echoes the value; so does this, since the caller sent it.
        constraint = ("Member must have length greater than or equal to 6" if len(code) < 6 else
                      "Member must have length less than or equal to 6" if len(code) > 6 else
                      "Member must satisfy regular expression pattern: [\\d]*")
        return _error("400 Bad Request", "ValidationError",
                      f"1 validation error detected: Value '{code}' at 'tokenCode' failed to "
                      f"satisfy constraint: {constraint}")
    if fault_injection.take_mfa_reject():
        return _error("403 Forbidden", "AccessDenied",
                      "MultiFactorAuthentication failed with invalid MFA one time pass code.")
    return None


def _session_token_response(key_id: str, secret: str, token: str, expiration: str) -> bytes:
    return (f'<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<GetSessionTokenResult><Credentials><AccessKeyId>{key_id}</AccessKeyId>"
            f"<SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>"
            f"<Expiration>{expiration}</Expiration></Credentials></GetSessionTokenResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</GetSessionTokenResponse>").encode()


def _get_session_token(access_key_id: str, params: dict[str, str], region: str) -> tuple[str, bytes]:
    from moto.iam.models import iam_backends
    from moto.sts.utils import random_session_token

    arn, account_id, mfa = _caller(access_key_id, region)
    if access_key_id.startswith("ASIA"):
        return _error("403 Forbidden", "AccessDenied",
                      "Cannot call GetSessionToken with session credentials")
    refused = _check_code(params)
    if refused:
        return refused
    seconds = int(params.get("DurationSeconds") or 43200)
    key = iam_backends[account_id]["global"].create_temp_access_key()
    with _lock:
        _sessions[key.access_key_id] = (arn, account_id, bool(params.get("TokenCode")) or mfa)
    expiration = (datetime.datetime.now(datetime.timezone.utc)
                  + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "200 OK", _session_token_response(key.access_key_id, key.secret_access_key,
                                             random_session_token(), expiration)


def _assume_role(access_key_id: str, params: dict[str, str], region: str) -> tuple[str, bytes] | None:
    """AWS's refusal of an AssumeRole, or None to let moto assume the role."""
    trust = _role_trust(params.get("RoleArn", ""))
    refused = _check_code(params)
    if refused:
        return refused
    if trust is None or not requires_mfa(trust):
        return None
    arn, _, mfa = _caller(access_key_id, region)
    if mfa or (params.get("SerialNumber") and params.get("TokenCode")):
        return None
    return _error("403 Forbidden", "AccessDenied",
                  f"User: {arn} is not authorized to perform: sts:AssumeRole on resource: "
                  f"{params.get('RoleArn', '')}")


def _caller_identity(access_key_id: str) -> bytes | None:
    """GetCallerIdentity for an MFA session: the IAM user it was made by, as AWS says."""
    with _lock:
        session = _sessions.get(access_key_id)
    if session is None:
        return None
    arn, account_id, _ = session
    return (f'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<GetCallerIdentityResult><Arn>{arn}</Arn><UserId>{access_key_id}</UserId>"
            f"<Account>{account_id}</Account></GetCallerIdentityResult><ResponseMetadata>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            ).encode()


def middleware(app: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Any:
        scope = fault_injection.scope_of(environ)
        if len(scope) < 4 or scope[3] != "sts":
            return app(environ, start_response)
        operation, _ = fault_injection.operation_of(environ)  # restores the body
        if operation not in ("AssumeRole", "GetSessionToken", "GetCallerIdentity"):
            return app(environ, start_response)
        body = environ["wsgi.input"].read()
        environ["wsgi.input"] = io.BytesIO(body)
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        key_id, region = scope[0], scope[2]
        answer: tuple[str, bytes] | None = None
        if operation == "GetSessionToken":
            answer = _get_session_token(key_id, params, region)
        elif operation == "AssumeRole":
            answer = _assume_role(key_id, params, region)
        else:
            identity = _caller_identity(key_id)
            answer = None if identity is None else ("200 OK", identity)
        if answer is None:
            return app(environ, start_response)
        status, payload = answer
        start_response(status, [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))])
        return [payload]

    return wrapped


def install(ctx: Any) -> None:
    # create() runs with the accounts, when moto's IAM is first needed (see first_use.py).
    control_api.on_reset(_reset)
    ctx.middlewares.append(middleware)
