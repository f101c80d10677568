"""The local data plane: an HTTPS server on loopback that plays the deployed REST APIs.

moto stores API Gateway's configuration but serves no API in server mode, so nothing would
answer `https://<apiId>.execute-api.<region>.amazonaws.com/<stage>/...`. This server answers
those names (a client points them at it, as `curl --resolve` does; functions run by
lambda_runtime are pointed at it by their resolver) by reading moto's in-process state at each
request, so it never answers for more than the emulator holds:

  * routing: the Host header `<apiId>.execute-api.<region>.amazonaws.com` (or, for a private
    API, `<apiId>-<vpceId>.execute-api...`, or an interface endpoint's own name
    `vpce-<id>-<random>.execute-api.<region>.vpce.amazonaws.com` with the API named by the
    `x-apigw-api-id` header) names an API in whichever account holds it; the path is
    `/<stage>/<resource path>`. The endpoint a host name leads to must be the one the request
    came through. Unknown API or stage: 403 `{"message":"Forbidden"}`;
    no resource or method: 403 `Missing Authentication Token`, as API Gateway answers.
  * private APIs answer only requests that came through an execute-api interface endpoint; the
    endpoint's policy and the API's resource policy are evaluated with `aws:SourceVpce` /
    `aws:SourceVpc`, the caller being `anonymous`. A request through an endpoint to a REGIONAL
    or EDGE API is refused, as AWS does when the endpoint has private DNS enabled.
  * TOKEN authorizers: the authorizer Lambda runs through lambda_runtime with
    {"type":"TOKEN","authorizationToken","methodArn"}; the returned policy is evaluated against
    the method ARN. Missing token 401, Deny 403, error 500 `{"message": null}`, each with the
    x-amzn-ErrorType API Gateway sends.
  * integrations: AWS_PROXY to Lambda (proxy event in, statusCode/headers/body out), MOCK (the
    default integration response, templates returned verbatim), HTTP_PROXY to execute-api
    hosts, directly or over a VPC link: the link's NLB → listener for the URI's port → target
    groups → registered IPs → the interface endpoint owning those ENI IPs, which becomes the
    source endpoint of the inner request.

moto 5.2.5 forgets PutIntegration's connectionId; `install` keeps it on the integration so a
VPC_LINK integration made through the API can be followed (cfn_resource_types does the same for
AWS::ApiGateway::Method).

Where a request comes from: a client on the host is the internet (no endpoint). The VPC-link
chain and the Lambda runner are the only ways to be "inside" a VPC; the runner's marker header
is honoured only with the signature lambda_runtime makes (see that module's docstring).

Private custom domain names: a request through an execute-api endpoint whose Host header names
a private custom domain name associated with that endpoint goes, after the domain name's own
policy, to the API and stage its base path mapping names (as an ALB in front of the endpoint
sends it; see mtls_data_plane.py).

Not reproduced: REQUEST / Cognito / AWS_IAM authorization (answered 500, never allowed),
authorizer result caching, usage plans and API keys, VTL mapping templates, request
validation, custom gateway responses, public custom domains, throttling, non-execute-api HTTP
backends (no internet from the sandbox), and deployment snapshots: the live configuration of
the API is served once a stage points at any deployment. `<apiId>-<vpceId>` names answer for
any endpoint of the caller's VPC, where AWS makes that Route 53 alias only for an endpoint
associated with the API.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import re
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import fault_injection
import lambda_runtime

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-south-1",
)
API_HOST = re.compile(
    r"^(?P<api>[a-z0-9]+)(?:-(?P<vpce>vpce-[0-9a-f]+))?\.execute-api\."
    r"(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)
# An interface endpoint's own name (regional, or zonal with the zone after the random part).
ENDPOINT_HOST = re.compile(
    r"^(?P<vpce>vpce-[0-9a-f]+)-[a-z0-9]+(?:-[a-z0-9-]+)?\.execute-api\."
    r"(?P<region>[a-z0-9-]+)\.vpce\.amazonaws\.com$"
)
LAMBDA_URI = re.compile(r"^arn:aws[\w-]*:apigateway:[\w-]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "content-length", "host"}
MAX_HOPS = 4  # API → VPC link → API ...: a loop of integrations ends here
INTEGRATION_TIMEOUT = 29.0

_server: ThreadingHTTPServer | None = None
_thread: threading.Thread | None = None


# ---------------------------------------------------------------- requests and answers


@dataclass
class Request:
    method: str
    host: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    source_vpce: str | None = None
    source_ip: str = "127.0.0.1"
    hops: int = 0


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json_response(status: int, doc: Any, error_type: str | None = None) -> Response:
    headers = {"content-type": "application/json"}
    if error_type:
        headers["x-amzn-errortype"] = error_type
    return Response(status, json.dumps(doc).encode(), headers)


def forbidden() -> Response:
    return _json_response(403, {"message": "Forbidden"}, "ForbiddenException")


def missing_token() -> Response:
    return _json_response(403, {"message": "Missing Authentication Token"},
                          "MissingAuthenticationTokenException")


def unauthorized() -> Response:
    return _json_response(401, {"message": "Unauthorized"}, "UnauthorizedException")


def internal_error(note: str = "") -> Response:
    response = _json_response(500, {"message": "Internal server error"}, "InternalServerErrorException")
    if note:  # says why, since the sandbox has no execution logs to read
        response.headers["x-xwizard-sandbox-note"] = note
    return response


def bad_gateway(note: str) -> Response:
    response = _json_response(502, {"message": "Internal server error"}, "InternalServerErrorException")
    response.headers["x-xwizard-sandbox-note"] = note
    return response


def service_unavailable(note: str) -> Response:
    response = _json_response(503, {"message": "Service Unavailable"})
    response.headers["x-xwizard-sandbox-note"] = note
    return response


def timed_out(note: str) -> Response:
    response = _json_response(504, {"message": "Endpoint request timed out"})
    response.headers["x-xwizard-sandbox-note"] = note
    return response


def authorizer_failure(note: str) -> Response:
    response = _json_response(500, {"message": None}, "AuthorizerConfigurationException")
    response.headers["x-xwizard-sandbox-note"] = note
    return response


def access_denied(message: str) -> Response:
    return _json_response(403, {"Message": message}, "AccessDeniedException")


# ---------------------------------------------------------------- moto state


@dataclass
class Target:
    """The API, stage and method a request resolves to."""

    api: Any
    stage: Any
    resource: Any
    method: Any
    path_params: dict[str, str]
    resource_path: str  # the request's path below the stage, e.g. "/widgets"

    @property
    def region(self) -> str:
        return self.api.region_name

    @property
    def account(self) -> str:
        return self.api.account_id

    def method_arn(self, http_method: str) -> str:
        return (f"arn:aws:execute-api:{self.region}:{self.account}:{self.api.id}/"
                f"{self.stage.name}/{http_method}/{self.resource_path.lstrip('/')}")


def _backends(backend_dict: Any, region: str) -> list[Any]:
    found = []
    for account in list(backend_dict.keys()):
        regions = backend_dict[account]
        if region in regions.keys():
            found.append(regions[region])
    return found


def find_api(api_id: str, region: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    for backend in _backends(apigateway_backends, region):
        if api_id in backend.apis:
            return backend.apis[api_id]
    return None


def endpoint_type(api: Any) -> str:
    types = (api.endpoint_configuration or {}).get("types") or ["EDGE"]
    return str(types[0]).upper()


def deployed_stage(api: Any, name: str) -> Any:
    stage = api.stages.get(name)
    if stage is None or stage.deployment_id not in api.deployments:
        return None
    return stage


def match_resource(api: Any, path: str) -> tuple[Any, dict[str, str]] | None:
    """The resource for `path`: literal parts first, then {param}, then {proxy+}."""
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    children: dict[str, list[Any]] = {}
    for resource in api.resources.values():
        children.setdefault(resource.parent_id or "", []).append(resource)
    root = api.resources[api.root_resource_id]
    return _match_below(root, segments, children, {})


def _match_below(node: Any, segments: list[str], children: dict[str, list[Any]],
                 params: dict[str, str]) -> tuple[Any, dict[str, str]] | None:
    if not segments:
        return node, params
    head, rest = segments[0], segments[1:]
    kids = children.get(node.id, [])
    for kid in sorted(kids, key=_specificity):
        part = kid.path_part
        if part.endswith("+}"):
            return kid, {**params, part[1:-2]: "/".join(segments)}
        if part.startswith("{") and part.endswith("}"):
            found = _match_below(kid, rest, children, {**params, part[1:-1]: head})
        elif part == head:
            found = _match_below(kid, rest, children, params)
        else:
            continue
        if found:
            return found
    return None


def _specificity(resource: Any) -> int:
    part = resource.path_part
    if part.endswith("+}"):
        return 2
    return 1 if part.startswith("{") else 0


def resolve(api: Any, stage: Any, req: Request, rest: str) -> Target | None:
    found = match_resource(api, rest)
    if not found:
        return None
    resource, params = found
    method = resource.resource_methods.get(req.method) or resource.resource_methods.get("ANY")
    if method is None:
        return None
    return Target(api, stage, resource, method, params, "/" + rest.strip("/"))


def find_function(function_arn: str) -> Any:
    from moto.awslambda.models import lambda_backends

    parts = function_arn.split(":")
    if len(parts) < 7:
        return None
    region, account = parts[3], parts[4]
    try:
        return lambda_backends[account][region].get_function(function_arn)
    except Exception:  # noqa: BLE001 - moto raises its own not-found types
        return None


# ---------------------------------------------------------------- policies


def _anonymous() -> Any:
    from secrets_cross_account import Caller

    # Requests without AWS_IAM authorization are made by no principal: `anonymous`.
    return Caller(account_id="anonymous", arn="anonymous")


def _expand_api_resources(policy: Any, target: Target) -> dict[str, Any] | None:
    """API Gateway reads `execute-api:/...` resources as ARNs of the API itself."""
    try:
        doc = json.loads(policy) if isinstance(policy, str) else dict(policy)
    except (TypeError, ValueError):
        return None
    prefix = f"arn:aws:execute-api:{target.region}:{target.account}:{target.api.id}"
    statements = doc.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    for stmt in statements:
        for key in ("Resource", "NotResource"):
            if key in stmt:
                values = stmt[key] if isinstance(stmt[key], list) else [stmt[key]]
                stmt[key] = [prefix + v[len("execute-api:"):] if str(v).startswith("execute-api:")
                             else v for v in values]
    doc["Statement"] = statements
    return doc


def _network_context(req: Request) -> dict[str, str]:
    context: dict[str, str] = {}
    if req.source_vpce:
        context["aws:SourceVpce"] = req.source_vpce
        endpoint = find_endpoint(req.source_vpce)
        if endpoint is not None:
            context["aws:SourceVpc"] = endpoint.vpc_id
    else:
        context["aws:SourceIp"] = req.source_ip
    return context


def check_resource_policy(target: Target, req: Request) -> Response | None:
    """API Gateway's resource policy check for an unauthenticated (`anonymous`) caller."""
    from secrets_cross_account import ALLOW, DENY, evaluate_policy

    arn = target.method_arn(req.method)
    private = endpoint_type(target.api) == "PRIVATE"
    policy = deployed_policy(target)
    if not policy:
        # A private API cannot be deployed without a policy; a public one needs none.
        return _policy_refusal(arn, explicit=False) if private else None
    doc = _expand_api_resources(policy, target)
    verdict = evaluate_policy(doc, _anonymous(), "execute-api:Invoke", arn, _network_context(req))
    if verdict == DENY:
        return _policy_refusal(arn, explicit=True)
    if verdict != ALLOW:
        return _policy_refusal(arn, explicit=False)
    return None


def _policy_refusal(arn: str, explicit: bool, kind: str = "resource-based") -> Response:
    why = ("with an explicit deny" if explicit
           else f"because no {kind} policy allows the execute-api:Invoke action")
    return access_denied(f"User: anonymous is not authorized to perform: execute-api:Invoke "
                         f"on resource: {arn} {why}")


def check_endpoint_policy(target: Target, req: Request) -> Response | None:
    """The interface endpoint's own policy applies to every request going through it."""
    from secrets_cross_account import ALLOW, DENY, evaluate_policy

    endpoint = find_endpoint(req.source_vpce or "")
    if endpoint is None:
        return forbidden()
    arn = target.method_arn(req.method)
    verdict = evaluate_policy(endpoint.policy_document, _anonymous(), "execute-api:Invoke", arn,
                              _network_context(req))
    if verdict == ALLOW:
        return None
    return _policy_refusal(arn, explicit=verdict == DENY, kind="VPC endpoint")


def find_endpoint(vpce_id: str) -> Any:
    from moto.ec2.models import ec2_backends

    for account in list(ec2_backends.keys()):
        for region in list(ec2_backends[account].keys()):
            endpoint = ec2_backends[account][region].vpc_end_points.get(vpce_id)
            if endpoint is not None:
                return endpoint
    return None


def apigateway_may_invoke(fn: Any, source_arn: str) -> bool:
    """Whether the function's resource policy lets API Gateway invoke it from `source_arn`."""
    for stmt in fn.policy.statements:
        principal = stmt.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        if service not in ("apigateway.amazonaws.com", "*") or stmt.get("Effect", "Allow") != "Allow":
            continue
        actions = stmt.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if not any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions):
            continue
        if _source_arn_ok(stmt.get("Condition") or {}, source_arn):
            return True
    return False


def _source_arn_ok(condition: dict[str, Any], source_arn: str) -> bool:
    from secrets_cross_account import _like  # the same IAM wildcard rules

    for operator in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
        for key, wanted in (condition.get(operator) or {}).items():
            if key.lower() == "aws:sourcearn":
                values = wanted if isinstance(wanted, list) else [wanted]
                return any(_like(str(v), source_arn) for v in values)
    return True


# ---------------------------------------------------------------- the gateway


def dispatch(req: Request) -> Response:
    """Answer one request the way API Gateway's front door would."""
    named = _api_named(req)
    if named is None:
        mapped = _private_custom_domain(req)
        if isinstance(mapped, Response):
            return mapped
        req, named = mapped
    api_id, region, host_vpce = named
    api = find_api(api_id, region)
    if api is None:
        return forbidden()
    refusal = _check_network(api, req, host_vpce)
    if refusal:
        return refusal
    if endpoint_type(api) == "PRIVATE" and not req.source_vpce:
        return _from_outside(api, req)
    stage_name, _, rest = req.path.lstrip("/").partition("/")
    stage = deployed_stage(api, unquote(stage_name))
    if stage is None:
        return forbidden()
    target = resolve(api, stage, req, rest)
    if target is None:
        return missing_token()
    return _authorized_call(target, req)


def _api_named(req: Request) -> tuple[str, str, str | None] | None:
    """(API id, region, endpoint the host name leads to) of a request, or None.

    `<apiId>.execute-api…` names the API; `<apiId>-<vpceId>.execute-api…` names it through one
    endpoint. An endpoint's own name (`vpce-…-….execute-api.<region>.vpce.amazonaws.com`) leads
    to that endpoint only, and the API is the one its `x-apigw-api-id` header names, as AWS
    documents for an endpoint without private DNS; without that header there is no API."""
    host = req.host.split(":")[0].lower()
    match = API_HOST.match(host)
    if match:
        return match["api"], match["region"], match["vpce"]
    match = ENDPOINT_HOST.match(host)
    if not match:
        return None
    endpoint = find_endpoint(match["vpce"])
    names = {d.get("dns_name") for d in getattr(endpoint, "dns_entries", None) or []}
    api_id = (req.headers.get("x-apigw-api-id") or "").strip().lower()
    if endpoint is None or host not in names or not re.fullmatch(r"[a-z0-9]+", api_id):
        return None
    return api_id, match["region"], match["vpce"]


def _private_custom_domain(req: Request) -> Response | tuple[Request, tuple[str, str, None]]:
    """A request through an execute-api endpoint whose Host names a private custom domain name
    the endpoint is associated with (apigateway_private_domains): the domain name's own policy
    first, then its base path mapping picks the API and stage, and the request goes on as if
    made to `/<stage>/<rest of the path>` of that API. Anything else is API Gateway's 403."""
    import apigateway_private_domains as domains
    from secrets_cross_account import ALLOW, DENY, evaluate_policy

    if not req.source_vpce:
        return forbidden()  # private custom domain names have no public front door
    endpoint = find_endpoint(req.source_vpce)
    if endpoint is None:
        return forbidden()
    region = endpoint.ec2_backend.region_name
    routed = domains.route(req.host, region, req.source_vpce)
    if routed is None:
        return forbidden()
    domain, _association = routed
    resource = (f"arn:aws:execute-api:{region}:{domain.account_id}:/domainnames/"
                f"{domain.domain_name}+{domain.domain_name_id}")
    doc = None
    if domain.policy:
        doc = json.loads(domain.policy)
        statements = doc.get("Statement") or []
        for stmt in statements if isinstance(statements, list) else [statements]:
            for key in ("Resource", "NotResource"):
                if key in stmt:
                    values = stmt[key] if isinstance(stmt[key], list) else [stmt[key]]
                    stmt[key] = [resource + v[len("execute-api:"):]
                                 if str(v).startswith("execute-api:") else v for v in values]
    arn = f"{resource}{req.path}"
    verdict = evaluate_policy(doc, _anonymous(), "execute-api:Invoke", arn, _network_context(req))
    if verdict != ALLOW:
        return _policy_refusal(arn, explicit=verdict == DENY)
    first, _, rest = req.path.lstrip("/").partition("/")
    if unquote(first) in domain.mappings and first:
        api_id, stage = domain.mappings[unquote(first)]
        below = "/" + rest
    elif "" in domain.mappings:
        api_id, stage = domain.mappings[""]
        below = req.path
    else:
        return forbidden()
    if not stage:
        return forbidden()
    mapped = Request(method=req.method, host=req.host, path=f"/{quote(stage)}{below}",
                     query=req.query, headers=req.headers, body=req.body,
                     source_vpce=req.source_vpce, source_ip=req.source_ip, hops=req.hops)
    return mapped, (api_id, region, None)


def _check_network(api: Any, req: Request, host_vpce: str | None) -> Response | None:
    private = endpoint_type(api) == "PRIVATE"
    if host_vpce and (not private or host_vpce != req.source_vpce):
        # `<api>-<vpce>` names and the endpoint's own names resolve to that endpoint's ENIs,
        # reachable only from its VPC.
        return forbidden()
    if req.source_vpce and not private:
        # Private DNS sends every execute-api name to the endpoint, which serves private APIs only.
        return forbidden()
    return None


@dataclass
class _NamedStage:
    name: str


def _from_outside(api: Any, req: Request) -> Response:
    """A private API has no public front door: whatever its policy allows, the host is refused,
    with the policy's explicit deny when it has one (what a caller debugging it would see)."""
    stage_name, _, rest = req.path.lstrip("/").partition("/")
    stage = api.stages.get(unquote(stage_name)) or _NamedStage(unquote(stage_name))
    target = Target(api, stage, None, None, {}, "/" + rest.strip("/"))
    refusal = check_resource_policy(target, req)
    return refusal if refusal is not None else forbidden()


def _authorized_call(target: Target, req: Request) -> Response:
    if endpoint_type(target.api) == "PRIVATE":
        refusal = check_endpoint_policy(target, req)
        if refusal:
            return refusal
    refusal = check_resource_policy(target, req)
    if refusal:
        return refusal
    outcome = authorize(target, req)
    if isinstance(outcome, Response):
        return outcome
    return integrate(target, req, outcome)


# ---------------------------------------------------------------- authorizers


def authorize(target: Target, req: Request) -> Response | dict[str, Any]:
    """The authorizer's context to pass on ({} for an open method), or the refusal to send."""
    kind = (target.method.authorization_type or "NONE").upper()
    if kind == "NONE":
        return {}
    if kind != "CUSTOM":
        return internal_error(f"{kind} authorization is not reproduced by the sandbox")
    authorizer = target.api.authorizers.get(target.method.authorizer_id or "")
    if authorizer is None:
        return authorizer_failure("the method's authorizer does not exist")
    if (authorizer.type or "").upper() != "TOKEN":
        return internal_error(f"{authorizer.type} authorizers are not reproduced by the sandbox")
    return _token_authorizer(target, req, authorizer)


def _token_authorizer(target: Target, req: Request, authorizer: Any) -> Response | dict[str, Any]:
    source = authorizer.identity_source or "method.request.header.Authorization"
    header = source.rsplit(".", 1)[-1].lower()
    token = req.headers.get(header, "")
    if not token:
        return unauthorized()
    pattern = authorizer.identity_validation_expression
    if pattern and not re.fullmatch(pattern, token):
        return unauthorized()
    fn = _authorizer_function(target, authorizer)
    if isinstance(fn, Response):
        return fn
    method_arn = target.method_arn(req.method)
    event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
    result = lambda_runtime.invoke_function(fn, event)
    return _authorizer_verdict(result, method_arn)


def _authorizer_function(target: Target, authorizer: Any) -> Any:
    match = LAMBDA_URI.match(authorizer.authorizer_uri or "")
    fn = find_function(match["arn"]) if match else None
    if fn is None:
        return authorizer_failure("the authorizer's function does not exist")
    source_arn = (f"arn:aws:execute-api:{target.region}:{target.account}:{target.api.id}"
                  f"/authorizers/{authorizer.id}")
    if not authorizer.authorizer_credentials and not apigateway_may_invoke(fn, source_arn):
        return authorizer_failure("the authorizer's function does not allow apigateway.amazonaws.com "
                                  "to invoke it (lambda:AddPermission)")
    if not lambda_runtime.runnable(fn):
        return authorizer_failure("the sandbox runs only Python functions with inline source")
    return fn


def _authorizer_verdict(result: Any, method_arn: str) -> Response | dict[str, Any]:
    from secrets_cross_account import ALLOW, DENY, evaluate_policy

    if result.function_error:
        # Only the exact error "Unauthorized" means 401; any other failure is a 500.
        failed = _safe_json(result.payload) or {}
        if isinstance(failed, dict) and failed.get("errorMessage") == "Unauthorized":
            return unauthorized()
        return authorizer_failure("the authorizer function failed")
    answer = _safe_json(result.payload)
    if not isinstance(answer, dict) or not answer.get("principalId") \
            or not isinstance(answer.get("policyDocument"), dict):
        return authorizer_failure("the authorizer answered no principalId and policyDocument")
    doc = _as_resource_policy(answer["policyDocument"])
    verdict = evaluate_policy(doc, _anonymous(), "execute-api:Invoke", method_arn)
    if verdict == DENY:
        return access_denied("User is not authorized to access this resource with an explicit deny")
    if verdict != ALLOW:
        return access_denied("User is not authorized to access this resource")
    context = dict(answer.get("context") or {})
    context["principalId"] = answer["principalId"]
    return context


def _as_resource_policy(doc: dict[str, Any]) -> dict[str, Any]:
    # The authorizer's policy is about the caller it names; give each statement that caller so
    # the shared resource-policy evaluator can judge it.
    statements = doc.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    return {"Statement": [{**s, "Principal": "*"} for s in statements if isinstance(s, dict)]}


def _safe_json(payload: bytes) -> Any:
    try:
        return json.loads(payload or b"null")
    except ValueError:
        return None


# ---------------------------------------------------------------- integrations


def integrate(target: Target, req: Request, auth_context: dict[str, Any]) -> Response:
    integration = target.method.method_integration
    if integration is None:
        return internal_error("the method has no integration")
    started = time.monotonic()
    response = _integration_response(target, req, integration, auth_context)
    limit = int(integration.timeout_in_millis or INTEGRATION_TIMEOUT * 1000) / 1000
    if time.monotonic() - started > limit:
        # API Gateway gives up at the integration timeout; the sandbox waits for the
        # backend to finish (bounded by its own timeout) and then answers as it would have.
        return timed_out(f"the integration took longer than {limit:g} s")
    return response


def _integration_response(target: Target, req: Request, integration: Any,
                          auth_context: dict[str, Any]) -> Response:
    kind = (integration.integration_type or "").upper()
    if kind == "AWS_PROXY":
        return _lambda_proxy(target, req, integration, auth_context)
    if kind == "MOCK":
        return _mock(integration)
    if kind == "HTTP_PROXY":
        return _http_proxy(target, req, integration)
    return internal_error(f"{kind} integrations are not reproduced by the sandbox")


def _mock(integration: Any) -> Response:
    responses = integration.integration_responses or {}
    default = next((r for r in responses.values() if not r.selection_pattern), None)
    if default is None:
        return internal_error("no default integration response")
    templates = default.response_templates or {}
    body = templates.get("application/json") or next(iter(templates.values()), "") or ""
    return Response(int(default.status_code), body.encode(), {"content-type": "application/json"})


def _lambda_proxy(target: Target, req: Request, integration: Any,
                  auth_context: dict[str, Any]) -> Response:
    match = LAMBDA_URI.match(integration.uri or "")
    fn = find_function(match["arn"]) if match else None
    if fn is None:
        return internal_error("the integration's function does not exist")
    if not integration.credentials and not apigateway_may_invoke(fn, target.method_arn(req.method)):
        return internal_error("the function does not allow apigateway.amazonaws.com to invoke it")
    if not lambda_runtime.runnable(fn):
        return internal_error("the sandbox runs only Python functions with inline source")
    result = lambda_runtime.invoke_function(fn, proxy_event(target, req, auth_context))
    if result.function_error:
        return bad_gateway("the integration function failed")
    return _proxy_answer(_safe_json(result.payload))


def proxy_event(target: Target, req: Request, auth_context: dict[str, Any]) -> dict[str, Any]:
    query: dict[str, list[str]] = {}
    for key, value in req.query:
        query.setdefault(key, []).append(value)
    body, encoded = _event_body(req)
    return {
        "resource": target.resource.get_path(),
        "path": target.resource_path,
        "httpMethod": req.method,
        "headers": dict(req.headers) or None,
        "multiValueHeaders": {k: [v] for k, v in req.headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": target.path_params or None,
        "stageVariables": target.stage.variables or None,
        "requestContext": _request_context(target, req, auth_context),
        "body": body,
        "isBase64Encoded": encoded,
    }


def _event_body(req: Request) -> tuple[str | None, bool]:
    if not req.body:
        return None, False
    try:
        return req.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(req.body).decode(), True


def _request_context(target: Target, req: Request, auth_context: dict[str, Any]) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.timezone.utc)
    context = {
        "resourceId": target.resource.id,
        "resourcePath": target.resource.get_path(),
        "httpMethod": req.method,
        "path": f"/{target.stage.name}{target.resource_path}",
        "accountId": target.account,
        "apiId": target.api.id,
        "stage": target.stage.name,
        "domainName": req.host,
        "domainPrefix": req.host.split(".", 1)[0],
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {"sourceIp": req.source_ip, "vpceId": req.source_vpce,
                     "userAgent": req.headers.get("user-agent")},
    }
    if auth_context:
        context["authorizer"] = auth_context
    return context


def _proxy_answer(answer: Any) -> Response:
    if not isinstance(answer, dict) or "statusCode" not in answer:
        return bad_gateway("malformed Lambda proxy response")
    try:
        status = int(answer["statusCode"])
    except (TypeError, ValueError):
        return bad_gateway("malformed Lambda proxy response")
    headers = {k.lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
    for key, values in (answer.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = ",".join(str(v) for v in values)
    headers.setdefault("content-type", "application/json")
    body = answer.get("body") or ""
    if not isinstance(body, str):
        return bad_gateway("malformed Lambda proxy response")
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    return Response(status, raw, headers)


def _http_proxy(target: Target, req: Request, integration: Any) -> Response:
    if req.hops >= MAX_HOPS:
        return internal_error("integration loop")
    url = _integration_url(integration.uri or "", target, req)
    parts = urlsplit(url)
    inner = Request(
        method=req.method if (integration.http_method or "ANY") == "ANY" else integration.http_method,
        host=parts.hostname or "",
        path=parts.path or "/",
        query=parse_qsl(parts.query, keep_blank_values=True) + list(req.query),
        headers={k: v for k, v in req.headers.items() if k not in HOP_BY_HOP},
        body=req.body,
        hops=req.hops + 1,
    )
    _apply_request_parameters(integration.request_parameters or {}, target, req, inner)
    if (integration.connection_type or "INTERNET").upper() == "VPC_LINK":
        return _through_vpc_link(target, integration, parts, inner)
    if not lambda_runtime.EXECUTE_API_HOST.match(parts.hostname or ""):
        return internal_error("the sandbox reaches no HTTP backend but execute-api hosts")
    return dispatch(inner)


def _integration_url(uri: str, target: Target, req: Request) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote(target.path_params.get(name, ""), safe="/")

    return re.sub(r"\{([^}+]+)\+?\}", value, uri)


def _apply_request_parameters(params: dict[str, str], target: Target, req: Request,
                              inner: Request) -> None:
    """integration.request.header.* / path.* / querystring.* from literals or method.request.*."""
    query = dict(req.query)
    for dest, src in params.items():
        value = _parameter_value(src, target, req, query)
        if value is None:
            continue
        kind, _, name = dest[len("integration.request."):].partition(".")
        if kind == "header":
            if name.lower() == "host":
                inner.host = value
            inner.headers[name.lower()] = value
        elif kind == "querystring":
            inner.query = [(k, v) for k, v in inner.query if k != name] + [(name, value)]


def _parameter_value(src: str, target: Target, req: Request, query: dict[str, str]) -> str | None:
    if src.startswith("'") and src.endswith("'"):
        return src[1:-1]
    if src.startswith("stageVariables."):
        return (target.stage.variables or {}).get(src.split(".", 1)[1])
    prefix, _, name = src.rpartition(".")
    if prefix == "method.request.header":
        return req.headers.get(name.lower())
    if prefix == "method.request.path":
        return target.path_params.get(name)
    if prefix == "method.request.querystring":
        return query.get(name)
    return None


# ---------------------------------------------------------------- VPC link → NLB → endpoint


def _through_vpc_link(target: Target, integration: Any, parts: Any, inner: Request) -> Response:
    from moto.apigateway.models import apigateway_backends

    link_id = _stage_variable(getattr(integration, "connection_id", None), target)
    backend = apigateway_backends[target.account][target.region]
    link = backend.vpc_links.get(link_id or "")
    if link is None or link.status != "AVAILABLE" or not link.target_arns:
        return internal_error("the integration's VPC link is missing or not AVAILABLE")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    hop = nlb_hop(target.account, target.region, link.target_arns[0], port)
    if isinstance(hop, Response):
        return hop
    inner.source_vpce = hop
    inner.source_ip = ""
    return dispatch(inner)


def _stage_variable(value: str | None, target: Target) -> str | None:
    match = re.fullmatch(r"\$\{stageVariables\.([\w-]+)\}", value or "")
    if match:
        return (target.stage.variables or {}).get(match.group(1))
    return value


def nlb_hop(account: str, region: str, nlb_arn: str, port: int) -> str | Response:
    """Follow an NLB to the execute-api interface endpoint its targets are, or say why not."""
    from moto.elbv2.models import elbv2_backends

    elbv2 = elbv2_backends[account][region]
    nlb = elbv2.load_balancers.get(nlb_arn)
    if nlb is None or nlb.type != "network":
        return internal_error("the VPC link's target is not a network load balancer")
    groups = _forwarded_groups(elbv2, nlb, port)
    if groups is None:
        # No listener: the NLB refuses the connection.
        return internal_error(f"the NLB has no listener on port {port}")
    ips = [t["Id"] for g in groups for t in g.targets.values()]
    if not ips:
        return internal_error("the NLB's target group has no registered target")
    endpoint = _endpoint_owning(account, region, ips)
    if endpoint is None:
        return timed_out("no registered target is an execute-api endpoint ENI the sandbox can reach")
    return endpoint


def _forwarded_groups(elbv2: Any, nlb: Any, port: int) -> list[Any] | None:
    for listener in nlb.listeners.values():
        if int(listener.port) != port:
            continue
        arns: list[str] = []
        for action in listener.default_actions:
            data = getattr(action, "data", action)
            if data.get("TargetGroupArn"):
                arns.append(data["TargetGroupArn"])
            for group in (data.get("ForwardConfig") or {}).get("TargetGroups") or []:
                arns.append(group["TargetGroupArn"])
        return [elbv2.target_groups[a] for a in arns if a in elbv2.target_groups]
    return None


def _endpoint_owning(account: str, region: str, ips: list[str]) -> str | None:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account][region]
    service = f"com.amazonaws.{region}.execute-api"
    for endpoint in ec2.vpc_end_points.values():
        if endpoint.service_name != service or endpoint.state != "available":
            continue
        for eni_id in endpoint.network_interface_ids or []:
            eni = ec2.enis.get(eni_id)
            if eni is not None and _eni_ips(eni) & set(ips):
                return endpoint.id
    return None


def _eni_ips(eni: Any) -> set[str]:
    ips = {eni.private_ip_address}
    for extra in getattr(eni, "private_ip_addresses", None) or []:
        ips.add(extra.get("PrivateIpAddress"))
    return {ip for ip in ips if ip}


# ---------------------------------------------------------------- certificates


def _ca_paths(data_dir: str) -> tuple[str, str]:
    return os.path.join(data_dir, "sandbox-ca.pem"), os.path.join(data_dir, "sandbox-ca.key")


def ensure_ca(data_dir: str) -> tuple[Any, Any]:
    """The sandbox CA, made once per data dir and reused, so a trusted CA stays trusted."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_path, key_path = _ca_paths(data_dir)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, "rb") as c, open(key_path, "rb") as k:
            return (x509.load_pem_x509_certificate(c.read()),
                    serialization.load_pem_private_key(k.read(), password=None))
    cert, key = _new_ca()
    _write_pem(key_path, key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()), private=True)
    _write_pem(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _new_ca() -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xwizard sandbox CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def issue_server_certificate(data_dir: str, ca_cert: Any, ca_key: Any) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(f"*.execute-api.{r}.amazonaws.com") for r in REGIONS]
    # What an execute-api interface endpoint presents for its own names.
    names += [x509.DNSName(f"*.execute-api.{r}.vpce.amazonaws.com") for r in REGIONS]
    names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                        "*.execute-api.us-east-1.amazonaws.com")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path = os.path.join(data_dir, "data-plane.pem")
    key_path = os.path.join(data_dir, "data-plane.key")
    _write_pem(key_path, key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()), private=True)
    _write_pem(cert_path, cert.public_bytes(serialization.Encoding.PEM)
               + ca_cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def write_trust_bundle(data_dir: str) -> str:
    """certifi's roots plus the sandbox CA: what functions trust, so both kinds of TLS work."""
    path = os.path.join(data_dir, "trust-bundle.pem")
    roots = b""
    try:
        import certifi

        with open(certifi.where(), "rb") as f:
            roots = f.read()
    except ImportError:
        pass
    with open(_ca_paths(data_dir)[0], "rb") as f:
        _write_pem(path, roots + b"\n" + f.read())
    return path


def _write_pem(path: str, data: bytes, private: bool = False) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------- the HTTPS server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "xwizard-sandbox"
    sys_version = ""

    def _serve(self) -> None:
        response = self._answer(self._read_body())
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers, then the blank line
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, body: bytes) -> Response:
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        vpce = headers.pop(lambda_runtime.SOURCE_VPCE_HEADER, None)
        signature = headers.pop(lambda_runtime.SOURCE_SIGNATURE_HEADER, None)
        req = Request(
            method=self.command, host=headers.get("host", ""), path=split.path,
            query=parse_qsl(split.query, keep_blank_values=True), headers=headers, body=body,
            source_vpce=vpce if lambda_runtime.verify_source(vpce, signature) else None,
            source_ip=self.client_address[0],
        )
        if fault_injection.take_unavailable():
            return service_unavailable("injected: the sandbox was asked to answer 503")
        try:
            return dispatch(req)
        except Exception as err:  # noqa: BLE001 - one bad request must not stop the server
            return internal_error(f"sandbox data plane error: {type(err).__name__}")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests carry API keys in headers; keep them out of the emulator's log


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext):
        super().__init__(address, _Handler)
        self.tls = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the request's own thread, so a slow client blocks no one.
        try:
            request.settimeout(INTEGRATION_TIMEOUT + 5)
            # Headers and body are written apart: unbatched, a reply is not held for an ACK.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(conn, client_address)
        finally:
            try:
                conn.close()
            except OSError:
                pass


def install(_ctx: Any) -> None:
    _keep_integration_connection_id()
    _deployments_keep_the_resource_policy()


def _deployments_keep_the_resource_policy() -> None:
    """A REST API's resource policy takes effect through a deployment: "If you update the
    resource policy after the API is created, you'll need to deploy the API to propagate the
    changes" (API Gateway developer guide). Each deployment keeps the policy of its moment, and
    a stage is judged by its deployment's. Deploying to an existing stage keeps the stage."""
    from moto.apigateway.models import RestAPI

    if getattr(RestAPI.create_deployment, "_xwizard", False):
        return
    original = RestAPI.create_deployment

    def create_deployment(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        existing = self.stages.get(name) if name else None
        deployment = original(self, name, *args, **kwargs)
        deployment.resource_policy = self.policy
        if existing is not None:
            # Deploying to an existing stage points it at the new deployment and keeps its
            # settings (logging, tracing, variables); moto made a bare stage in its place.
            existing.deployment_id = deployment.id
            self.stages[name] = existing
        return deployment

    create_deployment._xwizard = True  # type: ignore[attr-defined]
    RestAPI.create_deployment = create_deployment


def deployed_policy(target: Target) -> Any:
    """The resource policy the target's stage serves: its deployment's."""
    deployment = target.api.deployments.get(target.stage.deployment_id)
    return getattr(deployment, "resource_policy", target.api.policy)


def _keep_integration_connection_id() -> None:
    """moto 5.2.5 drops PutIntegration's connectionId, the VPC link an integration goes through;
    keep it on the integration (as cfn_resource_types does for AWS::ApiGateway::Method), or no
    VPC_LINK integration made through the API could be followed."""
    from moto.apigateway.responses import APIGatewayResponse

    if getattr(APIGatewayResponse.put_integration, "_xwizard", False):
        return
    original = APIGatewayResponse.put_integration

    def put_integration(self: Any) -> Any:
        status, headers, _ = original(self)
        parts = self.path.split("/")
        integration = self.backend.get_integration(parts[2], parts[4], parts[6])
        integration.connection_id = self._get_param("connectionId")
        return status, headers, json.dumps(integration.to_json())

    put_integration._xwizard = True  # type: ignore[attr-defined]
    APIGatewayResponse.put_integration = put_integration


def start(ctx: Any, host: str, port: int) -> dict[str, Any]:
    global _server, _thread
    ca_cert, ca_key = ensure_ca(ctx.data_dir)
    cert_file, key_file = issue_server_certificate(ctx.data_dir, ca_cert, ca_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    _server = _TLSServer((host, port), context)
    bound = _server.server_address[1]
    _thread = threading.Thread(target=_server.serve_forever, name="data-plane", daemon=True)
    _thread.start()
    lambda_runtime.configure_data_plane(host, bound, write_trust_bundle(ctx.data_dir))
    return {"url": f"https://{host}:{bound}", "port": bound, "ca_file": _ca_paths(ctx.data_dir)[0]}


def stop() -> None:
    global _server
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _server = None
