"""The sandbox's control API, served under /_sandbox/ on the emulator's own port.

  GET  /_sandbox/health                      -> {"ok": true}
  GET  /_sandbox/faults                      -> registered faults
  GET  /_sandbox/actions                     -> IAM actions each account used (action_log.py)
  POST /_sandbox/actions/forget              -> start that record afresh (action_log.py)
  GET  /_sandbox/calls                       -> each signed call: time, account, action, stack
  GET  /_sandbox/mtls-routes                 -> private DNS name -> loopback port of each VPC's
                                                endpoints (mtls_data_plane.py)
  POST /_sandbox/reset                       -> forget every resource and fault; keep the accounts
  POST /_sandbox/faults/fail-resource        {"logical_id", "reason", "stack_name"?}
  POST /_sandbox/faults/hold-stack           {"stack_name"}
  POST /_sandbox/faults/release-stack        {"stack_name"}
  POST /_sandbox/faults/step-stack           {"stack_name", "steps"?}  (a held stack: N more steps)
  POST /_sandbox/faults/throttle             {"service", "operation", "count"}
  POST /_sandbox/faults/stale-reads          {"ms"}: DescribeStacks/Events lag each change
  POST /_sandbox/faults/mfa-reject           {"count"}: the next N MFA codes are refused
  POST /_sandbox/faults/hold                 {"what"}: work of that kind stays unfinished
  POST /_sandbox/faults/release              {"what"}: held work finishes
                                             (what: "ssm-invocations" or "acm-pca")

Only loopback listens, so the API needs no credentials.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import accounts
import fault_injection
import stale_reads

PREFIX = "/_sandbox/"
_reset_hooks: list[Callable[[], None]] = []
# Read-only routes other modules add: GET /_sandbox/<route>.
_getters: dict[str, Callable[[], Any]] = {}
# Routes other modules add that change what they hold: POST /_sandbox/<route> with a body.
_posters: dict[str, Callable[[dict[str, Any]], Any]] = {}


def on_reset(hook: Callable[[], None]) -> None:
    """Behaviour modules register what they must forget on reset."""
    _reset_hooks.append(hook)


def on_get(route: str, getter: Callable[[], Any]) -> None:
    """Behaviour modules publish what they observed under GET /_sandbox/<route>."""
    _getters[route] = getter


def on_post(route: str, handler: Callable[[dict[str, Any]], Any]) -> None:
    """Behaviour modules take commands under POST /_sandbox/<route>; `handler` gets the body."""
    _posters[route] = handler


def _reset() -> dict[str, Any]:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    fault_injection.reset()
    for hook in _reset_hooks:
        hook()
    accounts.create()
    return {"reset": True}


def _require(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not body.get(n) and body.get(n) != 0]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")


# Fault routes: the body fields each requires, and what it does with the body.
_FAULTS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], None]]] = {
    "faults/fail-resource": (("logical_id", "reason"), lambda b: fault_injection.fail_resource(
        b["logical_id"], b["reason"], b.get("stack_name", ""), b.get("on", "create"))),
    "faults/hold-stack": (("stack_name",), lambda b: fault_injection.hold_stack(b["stack_name"])),
    "faults/release-stack": (("stack_name",), lambda b: fault_injection.release_stack(b["stack_name"])),
    "faults/step-stack": (("stack_name",), lambda b: fault_injection.step_stack(
        b["stack_name"], int(b.get("steps", 1)))),
    "faults/throttle": (("service", "operation", "count"), lambda b: fault_injection.throttle(
        b["service"], b["operation"], int(b["count"]))),
    "faults/data-plane-unavailable": (("count",), lambda b: fault_injection.data_plane_unavailable(
        int(b["count"]))),
    "faults/expire-credentials": (("account",), lambda b: fault_injection.expire_credentials(b["account"])),
    "faults/renew-credentials": (("account",), lambda b: fault_injection.renew_credentials(b["account"])),
    "faults/role-not-ready": (("count",), lambda b: fault_injection.role_not_ready(int(b["count"]))),
    "faults/mfa-reject": (("count",), lambda b: fault_injection.mfa_reject(int(b["count"]))),
    "faults/stale-reads": (("ms",), lambda b: stale_reads.set_window(int(b["ms"]) / 1000)),
    "faults/hold": (("what",), lambda b: fault_injection.hold(b["what"])),
    "faults/release": (("what",), lambda b: fault_injection.release(b["what"])),
}


def _handle(method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    route = path[len(PREFIX):].strip("/")
    if method == "GET" and route == "health":
        return 200, {"ok": True}
    if method == "GET" and route == "faults":
        return 200, fault_injection.describe()
    if method == "GET" and route in _getters:
        return 200, _getters[route]()
    if method != "POST":
        return 404, {"error": f"no such control endpoint: {method} {path}"}
    if route == "reset":
        return 200, _reset()
    if route in _posters:
        return 200, _posters[route](body)
    fault = _FAULTS.get(route)
    if fault is not None:
        required, apply = fault
        _require(body, *required)
        apply(body)
        return 200, fault_injection.describe()
    return 404, {"error": f"no such control endpoint: {method} {path}"}


def middleware(app: Callable) -> Callable:
    def wrapped(environ: dict[str, Any], start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            body = json.loads(raw) if raw.strip() else {}
            status, doc = _handle(environ.get("REQUEST_METHOD", "GET"), path, body)
        except (ValueError, TypeError) as err:
            status, doc = 400, {"error": str(err)}
        payload = json.dumps(doc).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(payload)))])
        return [payload]

    return wrapped


def install(ctx: Any) -> None:
    ctx.middlewares.append(middleware)
