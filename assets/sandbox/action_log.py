"""Which IAM actions each account's caller used, as AWS would authorize them.

Every request signed with a sandbox account's keys is recorded as the IAM action it needs
(`cloudformation:CreateChangeSet`, `apigateway:PATCH`, `lambda:InvokeFunction`, ...), so a test
can hold xwizard's documented policies (`xwizard permissions`) against what a full run really
calls. What CloudFormation does on the caller's behalf is not an HTTP call here; the test adds
it from the resource types' own handler permissions.

  GET /_sandbox/actions  ->  {"<account id>": ["service:Action", ...]}

Each such call is also counted, with when it came and the stack it names (CloudFormation
calls), so a benchmark can say how often a client polls each stack:

  GET /_sandbox/calls    ->  [{"t": <unix seconds>, "account", "action", "stack"}, ...]
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections import deque
from typing import Any, Callable
from urllib.parse import parse_qs

import accounts
import control_api
from fault_injection import operation_of, scope_of, service_of

_lock = threading.Lock()
_seen: dict[str, set[str]] = {}
# The latest calls, oldest first: (unix time, account id, action, stack name or "").
_calls: deque[tuple[float, str, str, str]] = deque(maxlen=100_000)

# JSON-protocol target prefixes and the IAM service each stands for.
_TARGET_SERVICES = {"secretsmanager": "secretsmanager", "TrentService": "kms",
                    "Logs_20140328": "logs"}
# Calls every signed-in caller may make without a policy.
_ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}


def _rest_action(service: str, method: str, path: str, query: str) -> str | None:
    """The IAM action of a REST call of the services xwizard calls that way."""
    if service == "apigateway":
        return f"apigateway:{method}"  # API Gateway authorizes by HTTP method
    if service == "lambda":
        if method == "POST" and path.endswith("/invocations"):
            return "lambda:InvokeFunction"
        if method == "GET" and re.search(r"/functions/[^/]+$", path):
            return "lambda:GetFunction"
        return f"lambda:{method}"
    if service == "s3":
        args = parse_qs(query, keep_blank_values=True)
        if "versions" in args:
            return "s3:ListBucketVersions"
        if method == "POST" and "delete" in args:
            return "s3:DeleteObject"
        if method in ("GET", "HEAD") and path.count("/") <= 1:
            return "s3:ListBucket"
        return f"s3:{method}"
    return None


def action_of(environ: dict[str, Any]) -> str | None:
    service = service_of(environ)
    if not service:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    operation, _ = operation_of(environ)
    if target:
        prefix = target.split(".", 1)[0]
        return f"{_TARGET_SERVICES.get(prefix, service)}:{operation}"
    if operation:
        return f"{service}:{operation}"
    return _rest_action(service, environ.get("REQUEST_METHOD", "GET"),
                        environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))


def _stack_of(environ: dict[str, Any]) -> str:
    """The stack a CloudFormation query call names (its name, also out of a stack id), or ""."""
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return ""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    name = parse_qs(body.decode("utf-8", "replace")).get("StackName", [""])[0]
    # arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    return name.split("/")[1] if name.startswith("arn:") and name.count("/") >= 2 else name


def _account_of(environ: dict[str, Any]) -> str | None:
    scope = scope_of(environ)
    key_id = scope[0] if scope else ""
    for account_id, (known, _) in accounts.KEYS.items():
        if known == key_id:
            return account_id
    return None


def middleware(app: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Any:
        account = _account_of(environ)
        action = action_of(environ) if account else None
        if account and action:
            stack = _stack_of(environ) if action.startswith("cloudformation:") else ""
            with _lock:
                _calls.append((time.time(), account, action, stack))
                if action not in _ALWAYS_ALLOWED:
                    _seen.setdefault(account, set()).add(action)
        return app(environ, start_response)

    return wrapped


def recorded() -> dict[str, list[str]]:
    with _lock:
        return {account: sorted(actions) for account, actions in _seen.items()}


def calls() -> list[dict[str, Any]]:
    with _lock:
        return [{"t": t, "account": a, "action": x, "stack": s} for t, a, x, s in _calls]


def _reset() -> None:
    with _lock:
        _seen.clear()
        _calls.clear()


def install(ctx: Any) -> None:
    ctx.middlewares.append(middleware)
    control_api.on_reset(_reset)
    control_api.on_get("actions", recorded)
    control_api.on_get("calls", calls)
