"""Which IAM actions each account's caller used, as AWS would authorize them.

Every request signed with a sandbox account's keys is recorded as the IAM action it needs
(`cloudformation:CreateChangeSet`, `apigateway:PATCH`, `lambda:InvokeFunction`, ...), so a test
can hold xwizard's documented policies (`xwizard permissions`) against what a full run really
calls. What CloudFormation does on the caller's behalf is not an HTTP call here; the test adds
it from the resource types' own handler permissions.

  GET  /_sandbox/actions         ->  {"<account id>": ["service:Action", ...]}
  POST /_sandbox/actions/forget  ->  starts the record afresh (the calls below stay), so a test
                                     can tell one run's actions from another's

A call IAM also authorizes as another action (tags given at creation) records both.
REST calls are named as IAM names them, not by their HTTP method, for the services whose
actions IAM names per operation (S3, Route 53); API Gateway authorizes by HTTP method and is
recorded so.

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


def _rest_action(service: str, method: str, path: str, query: str,
                 body: Callable[[], bytes]) -> str | None:
    """The IAM action of a REST call of the services xwizard calls that way; `body` reads
    the request's body (and leaves it for the emulator)."""
    if service == "apigateway":
        return f"apigateway:{method}"  # API Gateway authorizes by HTTP method
    if service == "lambda":
        if method == "POST" and path.endswith("/invocations"):
            return "lambda:InvokeFunction"
        if method == "GET" and re.search(r"/functions/[^/]+$", path):
            return "lambda:GetFunction"
        return f"lambda:{method}"
    if service == "s3":
        return _s3_action(method, path, query, body)
    if service == "route53":
        return _route53_action(method, path)
    return None


# Object operations by HTTP method: (without a version id, with one).
_S3_OBJECT_ACTIONS = {
    "GET": ("s3:GetObject", "s3:GetObjectVersion"),
    "HEAD": ("s3:GetObject", "s3:GetObjectVersion"),
    "PUT": ("s3:PutObject", "s3:PutObject"),
    "DELETE": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
}


def _s3_action(method: str, path: str, query: str, body: Callable[[], bytes]) -> str:
    """S3's action for a path-style call (`/bucket` or `/bucket/key`), as the S3 user guide's
    "Actions, resources and condition keys" names it."""
    args = parse_qs(query, keep_blank_values=True)
    on_object = path.strip("/").count("/") >= 1
    if on_object and method in _S3_OBJECT_ACTIONS:
        plain, versioned = _S3_OBJECT_ACTIONS[method]
        return versioned if "versionId" in args else plain
    if method == "POST" and "delete" in args:
        # DeleteObjects is authorized per object: naming a version needs DeleteObjectVersion.
        return "s3:DeleteObjectVersion" if b"<VersionId>" in body() else "s3:DeleteObject"
    if "versions" in args:
        return "s3:ListBucketVersions"
    configuration = [a for a in args if a in _S3_BUCKET_CONFIGURATIONS]
    if configuration:
        return _S3_BUCKET_CONFIGURATIONS[configuration[0]].get(method, f"s3:{method}")
    if args.keys() - _S3_LISTING_PARAMETERS:
        return f"s3:{method}"  # a bucket operation not named here
    if method in ("GET", "HEAD"):
        return "s3:ListBucket"
    return {"PUT": "s3:CreateBucket", "DELETE": "s3:DeleteBucket"}.get(method, f"s3:{method}")


# A bucket's configurations by their query parameter, and the action each method needs
# (deleting the tags is s3:PutBucketTagging: IAM has no DeleteBucketTagging).
_S3_BUCKET_CONFIGURATIONS = {
    "versioning": {"GET": "s3:GetBucketVersioning", "PUT": "s3:PutBucketVersioning"},
    "policy": {"GET": "s3:GetBucketPolicy", "PUT": "s3:PutBucketPolicy",
               "DELETE": "s3:DeleteBucketPolicy"},
    "tagging": {"GET": "s3:GetBucketTagging", "PUT": "s3:PutBucketTagging",
                "DELETE": "s3:PutBucketTagging"},
    "acl": {"GET": "s3:GetBucketAcl", "PUT": "s3:PutBucketAcl"},
}
# The query parameters of ListObjects(V2): a bucket GET with only these lists it.
_S3_LISTING_PARAMETERS = {"list-type", "prefix", "delimiter", "max-keys", "marker",
                          "continuation-token", "start-after", "encoding-type", "fetch-owner"}


# Route 53's REST paths (after /2013-04-01/) and methods, and the actions they need.
_ROUTE53_ACTIONS = [
    (re.compile(r"hostedzonesbyname"), "GET", "route53:ListHostedZonesByName"),
    (re.compile(r"hostedzone/[^/]+/rrset/?"), "GET", "route53:ListResourceRecordSets"),
    (re.compile(r"hostedzone/[^/]+/rrset/?"), "POST", "route53:ChangeResourceRecordSets"),
    (re.compile(r"hostedzone/[^/]+"), "GET", "route53:GetHostedZone"),
    (re.compile(r"hostedzone/[^/]+"), "DELETE", "route53:DeleteHostedZone"),
    (re.compile(r"hostedzone/?"), "GET", "route53:ListHostedZones"),
    (re.compile(r"hostedzone/?"), "POST", "route53:CreateHostedZone"),
    (re.compile(r"change/[^/]+"), "GET", "route53:GetChange"),
]


def _route53_action(method: str, path: str) -> str:
    rest = path.split("/2013-04-01/", 1)[-1]
    for pattern, verb, action in _ROUTE53_ACTIONS:
        if verb == method and pattern.fullmatch(rest):
            return action
    return f"route53:{method}"


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
                        environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                        lambda: _body(environ))


def _body(environ: dict[str, Any]) -> bytes:
    """The request's body, put back for whoever reads it next."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _stack_of(environ: dict[str, Any]) -> str:
    """The stack a CloudFormation query call names (its name, also out of a stack id), or ""."""
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return ""
    name = parse_qs(_body(environ).decode("utf-8", "replace")).get("StackName", [""])[0]
    # arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    return name.split("/")[1] if name.startswith("arn:") and name.count("/") >= 2 else name


# Calls that IAM authorizes for a second action too, when the request asks for what it
# covers: tags given at creation (the ACM PCA user guide, "Attaching tags to a CA at the time
# of creation", grants acm-pca:TagCertificateAuthority beside CreateCertificateAuthority).
_IMPLIED = {
    "acm-pca:CreateCertificateAuthority": (b'"Tags"', "acm-pca:TagCertificateAuthority"),
}


def _implied(action: str, environ: dict[str, Any]) -> list[str]:
    rule = _IMPLIED.get(action)
    if rule is None:
        return []
    marker, implied = rule
    return [implied] if marker in _body(environ) else []


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
            also = _implied(action, environ)
            with _lock:
                _calls.append((time.time(), account, action, stack))
                if action not in _ALWAYS_ALLOWED:
                    _seen.setdefault(account, set()).update([action, *also])
        return app(environ, start_response)

    return wrapped


def recorded() -> dict[str, list[str]]:
    with _lock:
        return {account: sorted(actions) for account, actions in _seen.items()}


def calls() -> list[dict[str, Any]]:
    with _lock:
        return [{"t": t, "account": a, "action": x, "stack": s} for t, a, x, s in _calls]


def _forget_actions() -> dict[str, Any]:
    with _lock:
        _seen.clear()
    return {"forgotten": True}


def _reset() -> None:
    with _lock:
        _seen.clear()
        _calls.clear()


def install(ctx: Any) -> None:
    ctx.middlewares.append(middleware)
    control_api.on_reset(_reset)
    control_api.on_get("actions", recorded)
    control_api.on_get("calls", calls)
    control_api.on_post("actions/forget", lambda _body: _forget_actions())
