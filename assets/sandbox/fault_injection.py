"""Fault injection: reproduce what real AWS does on a bad day, on request.

Faults are registered through the control API (`control_api.py`) and consumed here:
- a resource (by logical id, optionally only in one stack) fails with a given reason;
- a stack is held in progress until released (or let on one step at a time);
- an operation is throttled the next N times it is called;
- an account's credentials expire (every call signed with them is refused) until renewed;
- the data plane answers the next N calls 503, as a just-made API sometimes does;
- the next N MFA one-time codes are refused (sts_mfa.py), as a mistyped or stale code is;
- work AWS finishes a moment after the call that asked for it is held unfinished until released
  (HOLDABLE below), so a test can see the in-between answers without racing the pace.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from typing import Any, Callable
from urllib.parse import parse_qs

_lock = threading.Condition()
_failures: list[dict[str, str]] = []
_held: set[str] = set()
# Steps a held stack's worker may still take before it is held again (see step_stack).
_steps: dict[str, int] = {}
_throttles: dict[tuple[str, str], int] = {}
_expired_keys: set[str] = set()
# Counted faults: how many more calls each still answers wrongly.
_counts = {"data_plane_unavailable": 0, "role_not_ready": 0, "mfa_reject": 0}
# Work that can be held unfinished, and what holding it does:
HOLDABLE = {
    # ssm_run_command.py: a command sent while held stays invisible to GetCommandInvocation and
    # ListCommandInvocations (InvocationDoesNotExist) and undelivered to its instances.
    "ssm-invocations",
    # acm_pca.py: a CA created while held stays CREATING; a certificate issued while held stays
    # in progress (GetCertificate answers RequestInProgressException).
    "acm-pca",
}
_holds: set[str] = set()
# Releases so far, per holdable work: what was held before a release is free after it, even if
# the work is held again before anyone looks (see held_since).
_releases: dict[str, int] = {name: 0 for name in HOLDABLE}


def reset() -> None:
    with _lock:
        _failures.clear()
        _held.clear()
        _steps.clear()
        _throttles.clear()
        _expired_keys.clear()
        for fault in _counts:
            _counts[fault] = 0
        _holds.clear()
        for name in _releases:
            _releases[name] += 1
        _lock.notify_all()


OPERATIONS = ("create", "delete")


def fail_resource(logical_id: str, reason: str, stack_name: str = "", on: str = "create") -> None:
    """`on` "create" fails the resource's next creation or update; "delete" its next deletion
    (a stack delete, or a rollback removing it)."""
    if on not in OPERATIONS:
        raise ValueError(f"on must be one of {', '.join(OPERATIONS)}, not {on!r}")
    with _lock:
        _failures.append({"logical_id": logical_id, "reason": reason, "stack_name": stack_name,
                          "on": on})


def failure_for(stack_name: str, logical_id: str, on: str = "create") -> str | None:
    """The reason a resource must fail with, or None. A fault fires once."""
    with _lock:
        for fault in _failures:
            if fault["logical_id"] == logical_id and fault["stack_name"] in ("", stack_name) \
                    and fault["on"] == on:
                _failures.remove(fault)
                return fault["reason"]
    return None


def hold_stack(stack_name: str) -> None:
    """The stack's worker stops at its next step and stays there, the stack in its current
    in-progress state, until released. Steps: before each resource it starts, and, for a
    resource being created, once its creation is initiated (the resource CREATE_IN_PROGRESS)."""
    with _lock:
        _held.add(stack_name)


def release_stack(stack_name: str) -> None:
    """Lets a held stack carry on. Releasing one that is not held is refused: it is a typo
    or a stale name, and "done" would hide it."""
    with _lock:
        if stack_name not in _held:
            held = ", ".join(sorted(_held)) or "none"
            raise ValueError(f"stack {stack_name} is not held (held now: {held})")
        _held.discard(stack_name)
        _steps.pop(stack_name, None)
        _lock.notify_all()


def step_stack(stack_name: str, steps: int = 1) -> None:
    """Let a held stack's worker take `steps` more steps; it is then held again."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    with _lock:
        if stack_name not in _held:
            raise ValueError(f"stack {stack_name!r} is not held")
        _steps[stack_name] = _steps.get(stack_name, 0) + steps
        _lock.notify_all()


def wait_while_held(stack_name: str, timeout: float = 3600.0) -> None:
    """Block the calling (worker) thread while the stack is held, unless it may take a step."""
    with _lock:
        _lock.wait_for(lambda: stack_name not in _held or _steps.get(stack_name, 0) > 0,
                       timeout=timeout)
        if stack_name in _held and _steps.get(stack_name, 0) > 0:
            _steps[stack_name] -= 1


def throttle(service: str, operation: str, count: int) -> None:
    with _lock:
        _throttles[(service.lower(), operation)] = count


def take_throttle(service: str, operation: str) -> bool:
    with _lock:
        key = (service.lower(), operation)
        left = _throttles.get(key, 0)
        if left <= 0:
            return False
        _throttles[key] = left - 1
        return True


def role_not_ready(count: int) -> None:
    """The next `count` times API Gateway is given a CloudWatch role it refuses it, as it does
    a role IAM has not yet propagated to it."""
    _arm("role_not_ready", count)


def take_role_not_ready() -> bool:
    return _take("role_not_ready")


def mfa_reject(count: int) -> None:
    """The next `count` MFA one-time codes STS is given are refused as invalid."""
    _arm("mfa_reject", count)


def take_mfa_reject() -> bool:
    return _take("mfa_reject")


def data_plane_unavailable(count: int) -> None:
    _arm("data_plane_unavailable", count)


def take_unavailable() -> bool:
    """Whether this data-plane call must be answered 503; counts it."""
    return _take("data_plane_unavailable")


def _arm(fault: str, count: int) -> None:
    with _lock:
        _counts[fault] = count


def _take(fault: str) -> bool:
    """Whether this call is one the counted fault answers; counts it."""
    with _lock:
        if _counts[fault] <= 0:
            return False
        _counts[fault] -= 1
        return True


def _holdable(what: str) -> str:
    if what not in HOLDABLE:
        raise ValueError(f"cannot hold {what!r}: holdable work is {', '.join(sorted(HOLDABLE))}")
    return what


def hold(what: str) -> None:
    """Work of this kind started from now on stays unfinished until `release(what)`."""
    with _lock:
        _holds.add(_holdable(what))


def release(what: str) -> None:
    """Lets held work finish. Releasing what is not held is refused (a typo or a stale test)."""
    with _lock:
        if _holdable(what) not in _holds:
            raise ValueError(f"{what} is not held (held now: {', '.join(sorted(_holds)) or 'none'})")
        _holds.discard(what)
        _releases[what] += 1
        _lock.notify_all()


def hold_mark(what: str) -> int | None:
    """Taken when work starts: a mark if the work is held now, else None."""
    with _lock:
        return _releases[_holdable(what)] if what in _holds else None


def still_held(what: str, mark: int | None) -> bool:
    """Is work that started with `mark` still held (no release since)?"""
    if mark is None:
        return False
    with _lock:
        return _releases[what] == mark


def _key_of(who: str) -> str:
    """The access key id of "producer", "consumer" or an account id."""
    import accounts

    for account_id, (key_id, _) in accounts.KEYS.items():
        if who in (account_id, accounts.ROLES[account_id]):
            return key_id
    raise ValueError(f"no sandbox account {who!r}: use producer, consumer or an account id")


def expire_credentials(who: str) -> None:
    with _lock:
        _expired_keys.add(_key_of(who))


def renew_credentials(who: str) -> None:
    with _lock:
        _expired_keys.discard(_key_of(who))


def describe() -> dict[str, Any]:
    with _lock:
        return {
            "failures": list(_failures),
            "expired_access_keys": sorted(_expired_keys),
            "data_plane_unavailable_calls": _counts["data_plane_unavailable"],
            "role_not_ready_calls": _counts["role_not_ready"],
            "mfa_reject_codes": _counts["mfa_reject"],
            "held_stacks": sorted(_held),
            "held_work": sorted(_holds),
            "held_stack_steps": {name: n for name, n in sorted(_steps.items()) if n},
            "throttles": [
                {"service": s, "operation": o, "remaining": n} for (s, o), n in _throttles.items()
            ],
        }


# --- throttling and expired credentials, as a WSGI middleware -----------------------------

# Services on the AWS query protocol and the throttling code each returns.
_QUERY_THROTTLE_CODES = {"ec2": "RequestLimitExceeded"}
_DEFAULT_QUERY_CODE = "Throttling"


def scope_of(environ: dict[str, Any]) -> list[str]:
    """A signed request's credential scope: key id, date, region, service, "aws4_request"
    (action_log.py reads requests the same way)."""
    # Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/cloudformation/aws4_request
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        return auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    except IndexError:
        return []


def service_of(environ: dict[str, Any]) -> str:
    scope = scope_of(environ)
    return scope[3] if len(scope) > 3 else ""


def operation_of(environ: dict[str, Any]) -> tuple[str, bool]:
    """(operation, is_json_protocol). Reads and restores the body for query requests."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1], True
    if environ.get("REQUEST_METHOD") == "POST" and "x-www-form-urlencoded" in environ.get(
        "CONTENT_TYPE", ""
    ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        return action, False
    return "", False


def _throttled_response(service: str, json_protocol: bool) -> tuple[str, list, bytes]:
    request_id = str(uuid.uuid4())
    if json_protocol:
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                   ("x-amzn-RequestId", request_id)], body.encode()
    code = _QUERY_THROTTLE_CODES.get(service, _DEFAULT_QUERY_CODE)
    if service == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>Request limit exceeded."
                f"</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>")
    return "400 Bad Request", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()


def _expired_response(service: str, environ: dict[str, Any]) -> tuple[str, list, bytes]:
    """What AWS answers a call signed with expired temporary credentials, per protocol."""
    request_id = str(uuid.uuid4())
    message = "The security token included in the request is expired"
    if environ.get("HTTP_X_AMZ_TARGET"):  # JSON protocol (Secrets Manager, KMS, ...)
        body = json.dumps({"__type": "ExpiredTokenException", "message": message}).encode()
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"),
                                   ("x-amzn-RequestId", request_id)], body
    if service == "ec2":
        body = (f"<Response><Errors><Error><Code>RequestExpired</Code><Message>Request has "
                f"expired.</Message></Error></Errors><RequestID>{request_id}</RequestID>"
                "</Response>").encode()
        return "400 Bad Request", [("Content-Type", "text/xml")], body
    if service == "s3":
        body = (f"<Error><Code>ExpiredToken</Code><Message>The provided token has expired."
                f"</Message><RequestId>{request_id}</RequestId></Error>").encode()
        return "400 Bad Request", [("Content-Type", "application/xml")], body
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):  # query protocol
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
                f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>").encode()
        return "403 Forbidden", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body
    # REST-JSON (API Gateway, Lambda): the code travels in a header.
    body = json.dumps({"message": message}).encode()
    return "403 Forbidden", [("Content-Type", "application/json"),
                             ("x-amzn-ErrorType", "ExpiredTokenException"),
                             ("x-amzn-RequestId", request_id)], body


def fault_middleware(app: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Any:
        if _expired_keys:
            scope = scope_of(environ)
            if scope and scope[0] in _expired_keys:
                status, headers, body = _expired_response(service_of(environ), environ)
                start_response(status, headers + [("Content-Length", str(len(body)))])
                return [body]
        if _throttles:
            service = service_of(environ)
            operation, json_protocol = operation_of(environ)
            if service and operation and take_throttle(service, operation):
                status, headers, body = _throttled_response(service, json_protocol)
                start_response(status, headers + [("Content-Length", str(len(body)))])
                return [body]
        return app(environ, start_response)

    return wrapped


def install(ctx: Any) -> None:
    ctx.middlewares.append(fault_middleware)
