"""The behaviours that change moto's services are installed when moto first needs them.

Plain moto's server imports a service's backend only when a request for that service comes;
most of the sandbox's start was spent importing every backend its modules mend (CloudFormation's
parser alone imports all of moto's services). So the emulator installs, at start, only what
costs nothing until used (WSGI middlewares, control API hooks, the data plane's listener), and
puts the rest in two stages run once each, before the first request that needs them:

  * identity: the accounts' users and keys, the MFA devices and roles, IAM's managed policies;
    before any request other than moto's own /moto-api/ (a signed request is mapped to its
    account through IAM's access keys);
  * services: every other module, in the order the emulator lists them; before the first
    request signed for a service other than STS and IAM (or not signed at all), and before
    the data plane answers its first request.

A stage runs under a lock: a request that needs it waits for it, so no patched class is used
before it is patched, and the modules patch in the same order as when they were installed at
start. What a request then sees is what it saw when everything was installed at start.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable

# Services whose requests need only the identity stage (moto's STS and IAM backends).
IDENTITY_SERVICES = {"sts", "iam"}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"X-Amz-Credential=[^&]*?(?:/|%2F)\d{8}(?:/|%2F)[^/%&]+(?:/|%2F)([^/%&]+)(?:/|%2F)aws4_request",
                          re.IGNORECASE)


class Stage:
    """Steps run once, in order, by the first caller of `ensure`; later callers wait for them."""

    def __init__(self, name: str, steps: list[Callable[[], None]]):
        self.name = name
        self._steps = steps
        self._lock = threading.Lock()
        self._done = False
        self._error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self._done

    def ensure(self) -> None:
        if self._done:
            return
        with self._lock:
            if self._error is not None:
                # A half-done stage is not retried: its first steps must not patch twice.
                raise RuntimeError(f"the sandbox's {self.name} stage failed") from self._error
            if self._done:
                return
            try:
                for step in self._steps:
                    step()
            except BaseException as err:
                self._error = err
                raise
            self._done = True


class Stages:
    def __init__(self, identity: list[Callable[[], None]], services: list[Callable[[], None]]):
        self.identity = Stage("identity", identity)
        self.services = Stage("services", [self.identity.ensure, *services])

    def ensure_all(self) -> None:
        self.services.ensure()

    def before_request(self, environ: dict[str, Any]) -> None:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return
        service = service_of_request(environ)
        if service in IDENTITY_SERVICES or path.startswith("/_sandbox/"):
            self.identity.ensure()
        else:
            self.services.ensure()

    def middleware(self, app: Callable) -> Callable:
        def wrapped(environ: dict[str, Any], start_response: Callable) -> Any:
            self.before_request(environ)
            return app(environ, start_response)

        return wrapped

    def guard_data_plane(self, data_plane: Any) -> None:
        """The data plane reads API Gateway, Lambda and EC2: the services stage first."""
        dispatch = data_plane.dispatch
        if getattr(dispatch, "_first_use", False):
            return

        def guarded(req: Any) -> Any:
            self.services.ensure()
            return dispatch(req)

        guarded._first_use = True  # type: ignore[attr-defined]
        data_plane.dispatch = guarded


def service_of_request(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 request is signed for (header or presigned query), else None."""
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        match = _QUERY_SCOPE.search(environ.get("QUERY_STRING", ""))
    return match.group(1).lower() if match else None
