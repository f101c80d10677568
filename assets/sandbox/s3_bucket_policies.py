"""S3 bucket policies judged with their conditions, for the principal that asks.

S3 refuses an object or bucket request a bucket policy explicitly denies. moto 5.2.5 checks the
bucket policy too, but it knows only the StringEquals condition operator and takes any other
(Bool, StringLike, ArnLike, ...) as satisfied, and it applies a statement naming any AWS
principal to every caller. The usual "TLS only" statement

    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [...],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}

therefore denied every request, where AWS denies only plain-HTTP ones. This module evaluates
the bucket policy with the sandbox's policy evaluator (secrets_cross_account.evaluate_policy):
the caller is the principal whose access key signed the request (anonymous when unsigned), and
`aws:SecureTransport` is true, because the emulator's plain-HTTP loopback port stands for AWS's
HTTPS endpoints, which the AWS SDKs always use. Only the verdict moto asks for changes; what
moto does with it (403 on an explicit Deny) is unchanged.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import fault_injection

_request = threading.local()


def _middleware(app: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Any:
        scope = fault_injection.scope_of(environ)
        _request.access_key = scope[0] if scope else ""
        try:
            return app(environ, start_response)
        finally:
            _request.access_key = ""

    return wrapped


def _caller() -> Any:
    from secrets_cross_account import Caller, caller_from_access_key

    key = getattr(_request, "access_key", "")
    if key:
        try:
            return caller_from_access_key(key)
        except Exception:  # noqa: BLE001 - an unknown key is refused by moto elsewhere
            pass
    return Caller(account_id="anonymous", arn="anonymous")


def _get_permission(self: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import PermissionResult

    from secrets_cross_account import ALLOW, DENY, evaluate_policy

    if self.policy is None:
        return PermissionResult.NEUTRAL
    verdict = evaluate_policy(self.policy.decode(), _caller(), action, resource,
                              {"aws:SecureTransport": "true"})
    if verdict == DENY:
        return PermissionResult.DENIED
    if verdict == ALLOW:
        return PermissionResult.PERMITTED
    return PermissionResult.NEUTRAL


def install(ctx: Any) -> None:
    """At start: remember, per request thread, which key signed the request."""
    ctx.middlewares.append(_middleware)


def install_moto(_ctx: Any) -> None:
    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = _get_permission
