"""Lambda Invoke that runs the function's Python code, without docker.

moto 5.2.5 stores a function's code but runs it only in a docker container; without docker its
Invoke answers `error running docker`. The patterns xwizard deploys have small inline Python
functions (CloudFormation `ZipFile`), and the sandbox has to run them for real: the authorizers
read the API key from Secrets Manager, the consumer function calls the producer's private API.

What is played, per invocation of a `python*` function whose code is a zip holding the handler's
module (inline `ZipFile`, a zip given to CreateFunction, or an S3 object moto kept):
  * a subprocess of the emulator's own Python (the sandbox virtualenv, which has boto3 as
    Lambda's Python runtime has) extracts the code to a fresh task directory, imports `Handler`
    (module.function) and calls it with the event and a minimal context object;
  * its environment holds the function's Variables, the usual AWS_LAMBDA_* / AWS_REGION values,
    AWS_ENDPOINT_URL (the emulator) and credentials for the function's execution role, obtained
    from moto STS AssumeRole, so the code acts as the function's account;
  * it is killed after the function's Timeout, and answers like Lambda: the JSON result, or
    `X-Amz-Function-Error: Unhandled` with errorMessage / errorType / stackTrace;
  * its output (START / END / REPORT lines around what the code printed) goes to the function's
    CloudWatch log group, and the last 4 KB to `X-Amz-Log-Result` when asked with LogType=Tail.

The network, as AWS's would be for a function:
  * `*.execute-api.<region>.amazonaws.com` and `*.execute-api.<region>.vpce.amazonaws.com`
    resolve to the sandbox data plane (loopback), and the sandbox CA is trusted (SSL_CERT_FILE /
    REQUESTS_CA_BUNDLE point at certifi's bundle plus it);
  * a function attached to a VPC (VpcConfig) reaches API Gateway through the execute-api
    interface endpoints of its VPC, chosen by the name it calls, as DNS would choose them: an
    endpoint's own names (`vpce-…-….execute-api.<region>.vpce.amazonaws.com`, regional or
    zonal) and `<apiId>-<vpceId>.execute-api…` lead to that endpoint; any other execute-api
    name leads to the endpoint with private DNS enabled, if the VPC has one. On AWS the
    network itself tells API Gateway which endpoint a request came through; here the runner
    adds that endpoint id as a header, signed with a key that only the emulator and the runner
    know. The key reaches the runner on its stdin (never in the environment the handler can read)
    and the data plane drops any marker whose signature does not verify or has outlived the
    invocation, so neither the function's code nor a client on the host can claim to be inside
    a VPC.

Not played: other runtimes, container images, layers, and functions without a Python source;
they are answered exactly as moto answers them today (docker, or its echo when docker is off).
The Python version is the virtualenv's, not the one named by Runtime. No concurrency limits, no
reserved environment checks. Event invocations run in a background thread. In the emulator an
invoke runs in a warm execution environment of the function (see function_workers.py): the
subprocess above lives on between invokes, and the module's top level runs once per environment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any, Callable

SOURCE_VPCE_HEADER = "x-xwizard-sandbox-source-vpce"
SOURCE_SIGNATURE_HEADER = "x-xwizard-sandbox-source-signature"
EXECUTE_API_HOST = re.compile(r"^[a-z0-9-]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com$")
# An interface endpoint's own names: regional `vpce-<id>-<random>` or zonal `…-<random>-<zone>`.
ENDPOINT_HOST = re.compile(r"^vpce-[0-9a-f]+-[a-z0-9]+(?:-[a-z0-9-]+)?\.execute-api\."
                           r"[a-z0-9-]+\.vpce\.amazonaws\.com$")
# `<apiId>-<vpceId>.execute-api…`: the name of a private API through one endpoint.
API_THROUGH_ENDPOINT_HOST = re.compile(r"^[a-z0-9]+-(vpce-[0-9a-f]+)\.execute-api\.")

# Signs source-endpoint markers; one per emulator process, never written anywhere.
_MARKER_KEY = secrets.token_bytes(32)
_LOG_TAIL = 4096

_ctx: Any = None
_data_plane: dict[str, Any] = {}


@dataclass
class Invocation:
    """What one invocation answered, in Lambda's terms."""

    payload: bytes
    function_error: str | None = None
    logs: str = ""

    def json(self) -> Any:
        return json.loads(self.payload or b"null")


# ---------------------------------------------------------------- emulator side


def install(ctx: Any) -> None:
    global _ctx
    _ctx = ctx
    _hook_moto_invoke()


def configure_data_plane(host: str, port: int, trust_bundle: str) -> None:
    """Called by the data plane once it listens: where functions' execute-api calls go."""
    _data_plane.update({"host": host, "port": port, "trust_bundle": trust_bundle})


def sign_source(vpce_id: str, expires: int) -> str:
    """A marker valid until `expires` (epoch seconds): a copied marker soon stops working."""
    mac = hmac.new(_MARKER_KEY, f"{vpce_id}|{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def verify_source(vpce_id: str | None, signature: str | None) -> bool:
    if not vpce_id or not signature:
        return False
    expires, _, _ = signature.partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(sign_source(vpce_id, int(expires)), signature)


def _hook_moto_invoke() -> None:
    from moto.awslambda.models import LambdaFunction

    if getattr(LambdaFunction.invoke, "_xwizard", False):
        return
    original = LambdaFunction.invoke

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        if not runnable(self):
            return original(self, body, request_headers, response_headers)
        return _answer_invoke(self, body, request_headers, response_headers)

    invoke._xwizard = True  # type: ignore[attr-defined]
    LambdaFunction.invoke = invoke


def _answer_invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    event = json.loads(body) if body else {}
    kind = request_headers.get("x-amz-invocation-type", "RequestResponse")
    if kind == "DryRun":
        return b""
    if kind == "Event":
        # Lambda queues the event and answers 202 at once.
        threading.Thread(target=invoke_function, args=(fn, event), daemon=True).start()
        return b""
    result = invoke_function(fn, event)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    tail = result.logs.encode()[-_LOG_TAIL:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    return result.payload


def runnable(fn: Any) -> bool:
    """True when this module can run the function: Python with its handler's source at hand."""
    if not (fn.run_time or "").startswith("python") or not fn.handler:
        return False
    if getattr(fn, "package_type", "Zip") != "Zip":
        return False
    module_file = _handler_module(fn.handler)[0].replace(".", "/") + ".py"
    try:
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes or b"")) as archive:
            return module_file in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _handler_module(handler: str) -> tuple[str, str]:
    module, _, function = handler.rpartition(".")
    return module, function


def invoke_function(fn: Any, event: Any) -> Invocation:
    """Run `fn` with `event` and answer as Lambda would; the data plane calls this too."""
    request_id = str(uuid.uuid4())
    if not runnable(fn):
        return _error(request_id, "Runtime.InvalidEntrypoint",
                      "The sandbox runs only Python functions with inline source.")
    if _ctx is not None:
        import function_workers  # a warm environment per function, as AWS keeps

        return function_workers.invoke(fn, event, request_id)
    task_dir = tempfile.mkdtemp(prefix="xwizard-lambda-")
    try:
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            archive.extractall(task_dir)
        return _run(fn, event, request_id, task_dir)
    finally:
        shutil.rmtree(task_dir, ignore_errors=True)


def _run(fn: Any, event: Any, request_id: str, task_dir: str) -> Invocation:
    result_file = os.path.join(task_dir, ".xwizard-result.json")
    job = {
        "event": event,
        "handler": fn.handler,
        "task_dir": task_dir,
        "result_file": result_file,
        "context": _context_fields(fn, request_id),
        "network": _network(fn),
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--run"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        cwd=task_dir, env=_environment(fn, task_dir),
    )
    try:
        output, _ = proc.communicate(json.dumps(job).encode(), timeout=float(fn.timeout or 3))
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        timed_out = True
    elapsed_ms = (time.monotonic() - started) * 1000
    result = _collect(fn, request_id, result_file, timed_out, proc.returncode)
    result.logs = _log_text(fn, request_id, output.decode(errors="replace"), elapsed_ms)
    _save_logs(fn, result.logs)
    return result


def _collect(fn: Any, request_id: str, result_file: str, timed_out: bool, code: int) -> Invocation:
    if timed_out:
        return _error(request_id, "Sandbox.Timedout",
                      f"RequestId: {request_id} Error: Task timed out after "
                      f"{float(fn.timeout or 3):.2f} seconds")
    try:
        with open(result_file, "rb") as f:
            outcome = json.load(f)
    except (OSError, ValueError):
        return _error(request_id, "Runtime.ExitError",
                      f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}")
    if "error" in outcome:
        return Invocation(json.dumps(outcome["error"]).encode(), "Unhandled")
    return Invocation(outcome["payload"].encode())


def _error(request_id: str, error_type: str, message: str) -> Invocation:
    body = {"errorMessage": message, "errorType": error_type, "requestId": request_id,
            "stackTrace": []}
    return Invocation(json.dumps(body).encode(), "Unhandled")


def _log_text(fn: Any, request_id: str, output: str, elapsed_ms: float) -> str:
    lines = [f"START RequestId: {request_id} Version: {fn.version}"]
    lines += [line for line in output.splitlines() if line]
    lines.append(f"END RequestId: {request_id}")
    lines.append(f"REPORT RequestId: {request_id}\tDuration: {elapsed_ms:.2f} ms\t"
                 f"Memory Size: {fn.memory_size} MB")
    return "\n".join(lines) + "\n"


def _save_logs(fn: Any, text: str) -> None:
    try:
        fn.logs_backend.ensure_log_group(fn.logs_group_name)
        fn.save_logs(text)
    except Exception:  # noqa: BLE001 - logs are a courtesy; the invocation's answer stands
        pass


def _context_fields(fn: Any, request_id: str) -> dict[str, Any]:
    return {
        "function_name": fn.function_name,
        "function_version": str(fn.version),
        "invoked_function_arn": fn.function_arn,
        "memory_limit_in_mb": str(fn.memory_size),
        "aws_request_id": request_id,
        "log_group_name": fn.logs_group_name,
        "log_stream_name": f"sandbox/{request_id}",
        "timeout": float(fn.timeout or 3),
    }


def _environment(fn: Any, task_dir: str) -> dict[str, str]:
    # Built from scratch: the emulator's own environment (proxies, credentials) stays out.
    env = {k: str(v) for k, v in (fn.environment_vars or {}).items()}
    key_id, secret, token = _role_credentials(fn)
    env.update({
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": task_dir,
        "LAMBDA_TASK_ROOT": task_dir,
        "_HANDLER": fn.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": token,
        "AWS_ENDPOINT_URL": getattr(_ctx, "endpoint_url", "") or "",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    trust = _data_plane.get("trust_bundle")
    if trust:
        env["SSL_CERT_FILE"] = trust
        env["REQUESTS_CA_BUNDLE"] = trust
    return env


def _role_credentials(fn: Any) -> tuple[str, str, str]:
    """Credentials of the execution role, issued by moto STS in the function's account."""
    from moto.sts.models import sts_backends

    role_arn = _role_in_account(fn.role, fn.account_id)
    sts = sts_backends[fn.account_id][fn.partition]
    role = sts.assume_role(
        region_name=fn.region, role_session_name=fn.function_name[:64], role_arn=role_arn,
        policy="", duration=3600, external_id="",
    )
    return role.access_key_id, role.secret_access_key, role.session_token


def _role_in_account(role_arn: str, account_id: str) -> str:
    # Lambda refuses a role of another account at CreateFunction; moto does not check, so
    # the sandbox keeps the code acting as the function's own account whatever the ARN says.
    parts = role_arn.split(":", 5)
    if len(parts) == 6 and parts[4] != account_id:
        parts[4] = account_id
    return ":".join(parts)


def _network(fn: Any) -> dict[str, Any]:
    network: dict[str, Any] = {}
    if _data_plane:
        network["data_plane"] = [_data_plane["host"], _data_plane["port"]]
    expires = int(time.time() + float(fn.timeout or 3)) + 5
    endpoints = {}
    for endpoint in execute_api_endpoints_of_function(fn):
        endpoints[endpoint.id] = {
            "signature": sign_source(endpoint.id, expires),
            "names": [d.get("dns_name") for d in endpoint.dns_entries or [] if d.get("dns_name")],
            "private_dns": _truthy(endpoint.private_dns_enabled),
        }
    if endpoints:
        network["endpoints"] = endpoints
    return network


def execute_api_endpoints_of_function(fn: Any) -> list[Any]:
    """The available execute-api interface endpoints of a VPC function's VPC."""
    subnets = (getattr(fn, "_vpc_config", None) or {}).get("SubnetIds") or []
    if not subnets:
        return []
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[fn.account_id][fn.region]
    try:
        vpc_id = ec2.get_subnet(subnets[0]).vpc_id
    except Exception:  # noqa: BLE001 - a subnet moto no longer holds: no VPC path
        return []
    service = f"com.amazonaws.{fn.region}.execute-api"
    return [endpoint for endpoint in list(ec2.vpc_end_points.values())
            if endpoint.vpc_id == vpc_id and endpoint.service_name == service
            and (endpoint.vpc_endpoint_type or "").lower() == "interface"
            and endpoint.state == "available"]


def source_endpoint(host: str, endpoints: dict[str, Any]) -> str | None:
    """Which of the VPC's endpoints a call to `host` goes through, as DNS in the VPC decides;
    None for a name that reaches no endpoint of this VPC (then no marker is sent)."""
    host = host.lower()
    for vpce, endpoint in endpoints.items():
        if host in endpoint.get("names", ()):
            return vpce
    through = API_THROUGH_ENDPOINT_HOST.match(host)
    if through:
        return through.group(1) if through.group(1) in endpoints else None
    if EXECUTE_API_HOST.match(host):
        return next((v for v, e in endpoints.items() if e.get("private_dns")), None)
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# ---------------------------------------------------------------- runner side
# Runs in the function's subprocess: stdlib only above this line's imports.


class _Context:
    """The handful of context attributes Python handlers use."""

    def __init__(self, fields: dict[str, Any]):
        self._deadline = time.monotonic() + fields.pop("timeout")
        self.__dict__.update(fields)
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def install_network_hooks(plane: list[Any] | None,
                          endpoints: Callable[[], dict[str, Any]]) -> None:
    """Makes the function's calls go where the VPC would send them: execute-api names resolve
    to the data plane (as private DNS resolves them to the endpoint's ENIs), and each request
    carries the signed marker of the endpoint the name connected to picks. `endpoints` is read
    at each request: a warm environment serves many invokes, each with its own markers."""
    import http.client
    import socket

    if plane:
        real_getaddrinfo = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.lower() if isinstance(host, str) else ""
            if EXECUTE_API_HOST.match(name) or ENDPOINT_HOST.match(name):
                return real_getaddrinfo(plane[0], plane[1], *args, **kwargs)
            return real_getaddrinfo(host, port, *args, **kwargs)

        socket.getaddrinfo = getaddrinfo

    real_endheaders = http.client.HTTPConnection.endheaders

    def endheaders(self: Any, *args: Any, **kwargs: Any) -> Any:
        # The name connected to (not a Host header the code may set) picks the endpoint.
        known = endpoints()
        vpce = source_endpoint(self.host or "", known)
        if vpce:
            self.putheader(SOURCE_VPCE_HEADER, vpce)
            self.putheader(SOURCE_SIGNATURE_HEADER, known[vpce]["signature"])
        return real_endheaders(self, *args, **kwargs)

    http.client.HTTPConnection.endheaders = endheaders


def _run_handler(job: dict[str, Any]) -> dict[str, Any]:
    import importlib

    module_name, function_name = _handler_module(job["handler"])
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # noqa: BLE001 - reported as Lambda reports it
        return {"error": _runner_error("Runtime.ImportModuleError",
                                       f"Unable to import module '{module_name}': {err}")}
    handler = getattr(module, function_name, None)
    if not callable(handler):
        return {"error": _runner_error("Runtime.HandlerNotFound",
                                       f"Handler '{function_name}' missing on module "
                                       f"'{module_name}'")}
    context = _Context(dict(job["context"]))
    try:
        value = handler(job["event"], context)
    except Exception as err:  # noqa: BLE001 - the function's own failure
        return {"error": _exception_error(err, context.aws_request_id)}
    try:
        return {"payload": json.dumps(value)}
    except (TypeError, ValueError) as err:
        return {"error": _runner_error("Runtime.MarshalError",
                                       f"Unable to marshal response: {err}",
                                       context.aws_request_id)}


def _runner_error(error_type: str, message: str, request_id: str = "") -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id,
            "stackTrace": []}


def _exception_error(err: BaseException, request_id: str) -> dict[str, Any]:
    frames = traceback.extract_tb(err.__traceback__)[1:]  # drop the runner's own frame
    print(f"[ERROR] {type(err).__name__}: {err}", flush=True)
    return {
        "errorMessage": str(err),
        "errorType": type(err).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _runner_main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    # The sandbox's own directory must not shadow or extend the function's imports.
    sys.path[0] = job["task_dir"]
    network = job.pop("network")
    endpoints = network.get("endpoints") or {}
    install_network_hooks(network.get("data_plane"), lambda: endpoints)
    outcome = _run_handler(job)
    sys.stdout.flush()
    with open(job["result_file"], "w") as f:
        json.dump(outcome, f)


if __name__ == "__main__" and sys.argv[1:] == ["--run"]:
    _runner_main()
