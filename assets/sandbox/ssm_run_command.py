"""Systems Manager Run Command on EC2 instances, with the script really run.

What AWS does and moto 5.2.5 did not (moto's SendCommand answered "Success" at once and ran
nothing; DescribeInstanceInformation, ListCommandInvocations and CancelCommand were missing):

Managed nodes. An EC2 instance becomes a managed node when its SSM Agent registers, which it does
once the instance is running, its instance profile's role allows the agent's calls (the managed
policy AmazonSSMManagedInstanceCore, or the same actions: ssm:UpdateInstanceInformation and the
ec2messages or ssmmessages channel actions; an explicit Deny wins), and its VPC reaches Systems
Manager: interface endpoints for ssm, ssmmessages and ec2messages with private DNS (and DNS
resolution on in the VPC), or a default route to an internet gateway (with a public IP) or a NAT
gateway. DescribeInstanceInformation then lists it Online, a short while (pace `ssm_online`)
after launch or after the last condition was met; a node that registered and no longer meets
them (stopped, role or endpoints gone) is ConnectionLost; an instance that never registered is
not listed, and SendCommand to it fails with InvalidInstanceId "Instances [[i-…]] not in a valid
state for account <account>". Security groups between the instance and the endpoints are not
checked.

Run Command. SendCommand with AWS-RunShellScript (`commands`, `executionTimeout`,
`workingDirectory`) and TimeoutSeconds (the delivery timeout) makes one invocation per instance:
  * it is not visible for a moment (pace `ssm_visible`): GetCommandInvocation answers
    InvocationDoesNotExist and ListCommandInvocations leaves it out, as AWS documents right
    after SendCommand; the fault API's hold on "ssm-invocations" keeps it so until released;
  * then Pending until delivered, InProgress while the script runs, and Success, Failed (with
    the script's exit status as ResponseCode and "failed to run commands: exit status N"
    appended to its standard error, with no separator, as the agent does), TimedOut (StatusDetails
    ExecutionTimedOut, ResponseCode 137: the agent kills the process group, SIGKILL), or
    Cancelled (CancelCommand: Cancelling, then Cancelled; ResponseCode 137 if it had started,
    -1 if not). Not delivered within TimeoutSeconds: TimedOut / DeliveryTimedOut;
  * StandardOutputContent is the first 24,000 characters of standard output and
    StandardErrorContent the first 8,000 of standard error, cut as the agent cuts them (the
    last 20 replaced by "--output truncated--"); both are empty until the invocation ends.
    ListCommandInvocations with Details shows each plugin's Output: standard output, then
    "----------ERROR-------" and standard error, within 2,500 characters as the agent builds it;
  * at most MAX_RUNNING scripts run at once in the sandbox; the others wait Pending.

The instance, played locally: each instance has a directory under the data dir, its disk, kept
between commands and removed when the instance is terminated (or the sandbox reset):

    <data dir>/instances/<instance id>/        HOME and working directory of every command
        bin/curl, bin/aws                      first on PATH (see below)
        var/lib/amazon/ssm/<instance id>/document/orchestration/<command id>/
            awsrunShellScript/0.awsrunShellScript/{_script.sh,stdout,stderr}

The script is the commands joined by newlines, run with bash as a subprocess in its own process
group, killed with it on timeout, cancel or termination (and any background job it left when it
ends). Its environment stands for the instance's and nothing of the emulator's leaks in:
  PATH          <instance>/bin, then /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME          the instance directory
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
                the instance profile role's credentials, from the sandbox's STS AssumeRole in the
                instance's account with the instance id as session name, as EC2 issues them
  AWS_REGION, AWS_DEFAULT_REGION, AWS_SSM_REGION_NAME   the instance's region
  AWS_SSM_INSTANCE_ID, SSM_COMMAND_ID                   as the agent sets them
  AWS_ENDPOINT_URL    the emulator: the instance's calls go through its VPC's interface
                      endpoints to the regional services, which the emulator plays
  AWS_EC2_METADATA_DISABLED=true   no instance metadata service is played, and nothing may
                      be dialled off loopback
  CURL_CA_BUNDLE, SSL_CERT_FILE    the sandbox data plane CA (sandbox-ca.pem), standing for
                      the Amazon roots in the OS trust store
  LANG=C.UTF-8
`bin/curl` execs the machine's curl with `--connect-to HOST:443:127.0.0.1:PORT` for every
(HOST, PORT) `mtls_data_plane.routes_for_vpc(account, region, vpc_id)` returns: the VPC's private
DNS names lead to the sandbox's loopback listeners. `bin/aws` is the AWS CLI of the emulator's
virtualenv (Amazon Linux 2023 has the AWS CLI). bash, openssl and everything else are the
machine's own. AWS runs commands as root with /usr/bin as working directory; here they run as
the emulator's user in the instance directory, so that relative paths stay on the instance's disk.

Not played: other documents, S3 and CloudWatch output, notifications, MaxConcurrency and
MaxErrors beyond echoing them, Session Manager, hybrid nodes, inventory and associations.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from moto.core.exceptions import JsonRESTError

MAX_RUNNING = 4
DOCUMENT = "AWS-RunShellScript"
PLUGIN = "aws:runShellScript"
HOLD = "ssm-invocations"
# The agent's limits (iohandler.DefaultOutputConfig, MaximumPluginOutputSize) and the API's.
STDOUT_LIMIT = 24000
STDERR_LIMIT = 8000
PLUGIN_OUTPUT_LIMIT = 2500
TRUNCATED = "--output truncated--"
# appconfig.CommandStoppedPreemptivelyExitCode on Linux: 128 + SIGKILL.
STOPPED_EXIT = 137
DEFAULT_EXECUTION_TIMEOUT = 3600
MAX_EXECUTION_TIMEOUT = 172800
DEFAULT_DELIVERY_TIMEOUT = 3600
AGENT_VERSION = "3.3.1957.0"
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
_TICK = 0.25
_READ_LIMIT = 1 << 20
_KILL_WAIT = 10.0

_PACE = {"ssm_online": 0.05, "ssm_visible": 0.02}
_ctx: Any = None
_lock = threading.Condition()
_state: dict[str, Any] = {"running": False, "root": "", "scheduler": None}


# --- errors -------------------------------------------------------------------------------------


class _Error(JsonRESTError):
    code = 400

    def __init__(self, message: str = ""):
        super().__init__(type(self).__name__, message)


class InvalidInstanceId(_Error):
    pass


class InvocationDoesNotExist(_Error):
    pass


class InvalidCommandId(_Error):
    pass


class InvalidDocument(_Error):
    pass


class InvalidParameters(_Error):
    pass


class InvalidPluginName(_Error):
    pass


class InvalidFilterKey(_Error):
    pass


class ValidationException(_Error):
    pass


# --- managed nodes ------------------------------------------------------------------------------

# The agent registers with ssm:UpdateInstanceInformation and takes its commands over one of two
# channels; AmazonSSMManagedInstanceCore grants all of these.
_REGISTER = "ssm:UpdateInstanceInformation"
_CHANNELS = (("ec2messages:GetMessages", "ec2messages:SendReply"),
             ("ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel"))
_SSM_SERVICES = ("ssm", "ssmmessages", "ec2messages")


@dataclass
class _Node:
    qualified_since: float | None = None
    registered: bool = False
    last_ping: datetime.datetime | None = None


_nodes: dict[str, _Node] = {}


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _iam(account: str, region: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account][get_partition(region)]


def instance_role(account: str, region: str, instance: Any) -> Any:
    """The role of the instance's instance profile as IAM holds it now, or None."""
    association = _ec2(account, region).iam_instance_profile_associations.get(instance.id)
    if association is None or association.iam_instance_profile is None:
        return None
    iam = _iam(account, region)
    profile = iam.instance_profiles.get(association.iam_instance_profile.name)
    if profile is None or not profile.roles:
        return None
    try:
        return iam.get_role(profile.roles[0].name)
    except Exception:  # noqa: BLE001 - the role was deleted: the profile has none
        return None


def _documents(role: Any) -> list[Any]:
    """The role's identity policies: inline and attached managed ones (default versions)."""
    import iam_managed_policies

    docs: list[Any] = list(role.policies.values())
    for arn, policy in role.managed_policies.items():
        versions = [v.document for v in getattr(policy, "versions", []) if v.is_default]
        if versions:
            docs.append(versions[0])
        elif ":iam::aws:policy/" in arn:
            data = iam_managed_policies._aws_data().get(arn.rsplit("/", 1)[-1])
            if data:
                docs.append(data.get("Document"))
    return docs


def _as_identity_policy(doc: Any) -> dict[str, Any] | None:
    """An identity policy read as a resource policy naming any principal, so the sandbox's
    evaluator (secrets_cross_account) can judge its actions, resources and conditions."""
    from urllib.parse import unquote

    if isinstance(doc, str):
        text = doc if doc.lstrip().startswith("{") else unquote(doc)
        try:
            doc = json.loads(text)
        except ValueError:
            return None
    if not isinstance(doc, dict):
        return None
    statements = doc.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    return {"Statement": [{**s, "Principal": "*"} for s in statements if isinstance(s, dict)]}


def role_allows(role: Any, action: str, resource: str = "*") -> bool:
    import secrets_cross_account as sca

    caller = sca.Caller.for_role(role.arn)
    decision = sca.NOT_APPLICABLE
    for doc in _documents(role):
        verdict = sca.evaluate_policy(_as_identity_policy(doc), caller, action, resource)
        if verdict == sca.DENY:
            return False
        if verdict == sca.ALLOW:
            decision = verdict
    return decision == sca.ALLOW


def role_allows_the_agent(role: Any, account: str, region: str, instance_id: str) -> bool:
    instance_arn = f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"
    if not role_allows(role, _REGISTER, instance_arn):
        return False
    return any(all(role_allows(role, action) for action in channel) for channel in _CHANNELS)


def _endpoints_reach_ssm(ec2: Any, vpc_id: str, region: str) -> bool:
    vpc = ec2.vpcs.get(vpc_id)
    if vpc is None or not _truthy(getattr(vpc, "enable_dns_support", True)):
        return False
    wanted = {f"com.amazonaws.{region}.{service}" for service in _SSM_SERVICES}
    have = {e.service_name for e in list(ec2.vpc_end_points.values())
            if e.vpc_id == vpc_id and (e.vpc_endpoint_type or "").lower() == "interface"
            and e.state == "available" and _truthy(e.private_dns_enabled)}
    return wanted <= have


def _route_table_of(ec2: Any, subnet_id: str | None, vpc_id: str) -> Any:
    tables = [t for t in list(ec2.route_tables.values()) if t.vpc_id == vpc_id]
    for table in tables:
        if subnet_id and subnet_id in table._associations.values():
            return table
    return next((t for t in tables if t.main_association_id), None)


def _internet_route(ec2: Any, instance: Any, vpc_id: str) -> bool:
    table = _route_table_of(ec2, instance.subnet_id, vpc_id)
    if table is None:
        return False
    for route in table.routes:
        if route.destination_cidr_block != "0.0.0.0/0":
            continue
        if route.nat_gateway is not None:
            return True
        gateway_id = getattr(route.gateway, "id", "") or ""
        if gateway_id.startswith("igw-") and instance.public_ip:
            return True
    return False


def reaches_ssm(account: str, region: str, instance: Any) -> bool:
    ec2 = _ec2(account, region)
    vpc_id = instance.vpc_id
    if not vpc_id:
        return False
    return _endpoints_reach_ssm(ec2, vpc_id, region) or _internet_route(ec2, instance, vpc_id)


def _qualifies(account: str, region: str, instance: Any) -> Any:
    """The instance's role if its agent can register now, else None."""
    if instance.state != "running":
        return None
    role = instance_role(account, region, instance)
    if role is None or not role_allows_the_agent(role, account, region, instance.id):
        return None
    return role if reaches_ssm(account, region, instance) else None


def ping_status(account: str, region: str, instance: Any) -> str | None:
    """Online, ConnectionLost, or None for an instance that is not (or no longer) a node."""
    if instance.state == "terminated":
        return None
    qualified = _qualifies(account, region, instance) is not None
    now = time.monotonic()
    with _lock:
        node = _nodes.get(instance.id)
        if node is None:
            node = _nodes[instance.id] = _Node()
            if qualified:  # never looked at: its agent has been trying since launch
                launched = instance.launch_time.replace(tzinfo=datetime.timezone.utc)
                node.qualified_since = now - max(0.0, (_utcnow() - launched).total_seconds())
        if not qualified:
            node.qualified_since = None
            return "ConnectionLost" if node.registered else None
        if node.qualified_since is None:
            node.qualified_since = now
        if now - node.qualified_since >= _PACE["ssm_online"]:
            node.registered = True
            node.last_ping = _utcnow()
            return "Online"
        return "ConnectionLost" if node.registered else None


def _instances(account: str, region: str) -> list[Any]:
    return [i for i in _ec2(account, region).all_instances() if i.state != "terminated"]


# --- commands -----------------------------------------------------------------------------------


@dataclass(eq=False)
class Invocation:
    command: "Command"
    instance_id: str
    visible_at: float
    hold: int | None
    status: str = "Pending"
    details: str = "Pending"
    response_code: int = -1
    started: datetime.datetime | None = None
    ended: datetime.datetime | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    process: subprocess.Popen | None = None
    cancel_requested: bool = False
    timed_out: bool = False
    instance_gone: bool = False

    def visible(self) -> bool:
        import fault_injection

        return not fault_injection.still_held(HOLD, self.hold) and time.monotonic() >= self.visible_at


@dataclass(eq=False)
class Command:
    id: str
    account: str
    region: str
    request: dict[str, Any]
    commands: list[str]
    execution_timeout: int
    delivery_timeout: int
    requested: datetime.datetime
    instance_ids: list[str]
    invocations: dict[str, Invocation] = field(default_factory=dict)


_commands: dict[str, Command] = {}
_order: list[Command] = []
_running: set[Invocation] = set()


def _execution_timeout(parameters: dict[str, Any]) -> int:
    value = parameters.get("executionTimeout", [str(DEFAULT_EXECUTION_TIMEOUT)])
    text = value[0] if isinstance(value, list) and len(value) == 1 else value
    if not isinstance(text, str) or not text.isdigit() or not 1 <= int(text) <= MAX_EXECUTION_TIMEOUT:
        raise InvalidParameters(f"Parameter \"executionTimeout\" must be a number of seconds from 1 "
                                f"to {MAX_EXECUTION_TIMEOUT}, given as a one-element list.")
    return int(text)


def _script_lines(parameters: Any) -> list[str]:
    if not isinstance(parameters, dict):
        raise InvalidParameters("Parameters must map parameter names to lists of strings.")
    unknown = sorted(set(parameters) - {"commands", "executionTimeout", "workingDirectory"})
    if unknown:
        raise InvalidParameters(f"Parameter \"{unknown[0]}\" is not a parameter of {DOCUMENT}.")
    commands = parameters.get("commands")
    if not isinstance(commands, list) or not commands or \
            not all(isinstance(c, str) for c in commands):
        raise InvalidParameters(f"Parameter \"commands\" of {DOCUMENT} is required: a list of "
                                "command lines.")
    return commands


def _targets(account: str, region: str, request: dict[str, Any]) -> list[str]:
    ids = list(request.get("InstanceIds") or [])
    for target in request.get("Targets") or []:
        key, values = target.get("Key", ""), target.get("Values") or []
        if key == "InstanceIds":
            ids += values
            continue
        for instance in _instances(account, region):
            tags = {t["key"]: t["value"] for t in instance.get_tags()}
            if key == "tag-key" and any(v in tags for v in values) or \
                    key.startswith("tag:") and tags.get(key[4:]) in values:
                ids.append(instance.id)
    if not ids:
        raise ValidationException("Either InstanceIds or Targets must name at least one instance.")
    return list(dict.fromkeys(ids))


def _online(account: str, region: str, instance_id: str) -> bool:
    try:
        instance = _ec2(account, region).get_instance(instance_id)
    except Exception:  # noqa: BLE001 - an unknown id is not a node either
        return False
    return ping_status(account, region, instance) == "Online"


def send_command(account: str, region: str, request: dict[str, Any]) -> Command:
    import fault_injection

    document = str(request.get("DocumentName") or "")
    if document.rsplit("/", 1)[-1] != DOCUMENT:
        raise InvalidDocument(f"Document {document} is not one the sandbox runs; it runs {DOCUMENT}.")
    parameters = request.get("Parameters") or {}
    commands = _script_lines(parameters)
    execution_timeout = _execution_timeout(parameters)
    delivery_timeout = request.get("TimeoutSeconds", DEFAULT_DELIVERY_TIMEOUT)
    if not isinstance(delivery_timeout, int) or not 30 <= delivery_timeout <= 2592000:
        raise ValidationException("TimeoutSeconds must be between 30 and 2592000.")
    ids = _targets(account, region, request)
    invalid = [i for i in ids if not _online(account, region, i)]
    if invalid:
        raise InvalidInstanceId(f"Instances [[{', '.join(invalid)}]] not in a valid state for "
                                f"account {account}")
    command = Command(str(uuid.uuid4()), account, region, request, commands, execution_timeout,
                      delivery_timeout, _utcnow(), ids)
    visible_at = time.monotonic() + _PACE["ssm_visible"]
    hold = fault_injection.hold_mark(HOLD)
    for instance_id in ids:
        command.invocations[instance_id] = Invocation(command, instance_id, visible_at, hold)
    with _lock:
        _commands[command.id] = command
        _order.append(command)
        _lock.notify_all()
    return command


def cancel(account: str, region: str, command_id: str, instance_ids: list[str]) -> None:
    with _lock:
        command = _commands.get(command_id)
        if command is None or (command.account, command.region) != (account, region):
            raise InvalidCommandId()
        unknown = [i for i in instance_ids if i not in command.invocations]
        if unknown:
            raise InvalidInstanceId(f"Instances [[{', '.join(unknown)}]] are not targets of "
                                    f"command {command_id}")
        for invocation in command.invocations.values():
            if instance_ids and invocation.instance_id not in instance_ids:
                continue
            if invocation.status == "Pending":
                _finish(invocation, "Cancelled", "Cancelled", -1)
            elif invocation.status == "InProgress":
                invocation.cancel_requested = True
                invocation.status = invocation.details = "Cancelling"
                _kill(invocation)
        _lock.notify_all()


def _finish(invocation: Invocation, status: str, details: str, code: int) -> None:
    invocation.status, invocation.details, invocation.response_code = status, details, code
    invocation.ended = _utcnow()


def _kill(invocation: Invocation) -> None:
    process = invocation.process
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- running scripts ----------------------------------------------------------------------------


def instance_dir(instance_id: str) -> str:
    return os.path.join(_state["root"], instance_id)


def _routes(account: str, region: str, vpc_id: str | None) -> list[tuple[str, int]]:
    if not vpc_id:
        return []
    try:
        import mtls_data_plane
    except ImportError:
        return []
    routes_for_vpc = getattr(mtls_data_plane, "routes_for_vpc", None)
    if routes_for_vpc is None:
        return []
    routes = []
    for host, port in routes_for_vpc(account, region, vpc_id) or []:
        routes.append((str(host), int(port)))
    return routes


def _write_executable(path: str, text: str) -> None:
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def _prepare_bin(directory: str, routes: list[tuple[str, int]]) -> str:
    """The instance's own commands, first on its PATH."""
    bin_dir = os.path.join(directory, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    curl = shutil.which("curl", path="/usr/local/bin:/usr/bin:/bin")
    if curl:
        pairs = " ".join(f"--connect-to {shlex.quote(f'{host}:443:127.0.0.1:{port}')}"
                         for host, port in routes)
        _write_executable(os.path.join(bin_dir, "curl"), (
            "#!/bin/sh\n"
            "# The VPC's private DNS names resolve to its endpoints; in the sandbox they lead to\n"
            "# the loopback listeners that play them.\n"
            f"exec {shlex.quote(curl)} {pairs} \"$@\"\n"))
    import importlib.util

    if importlib.util.find_spec("awscli") is not None:
        # -I: neither the script's environment nor its working directory shapes the CLI.
        _write_executable(os.path.join(bin_dir, "aws"),
                          f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -I -m awscli \"$@\"\n")
    return bin_dir


def _credentials(role_arn: str, account: str, region: str, instance_id: str) -> tuple[str, str, str]:
    """The role's credentials as EC2 gives them to the instance: its id as session name."""
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    sts = sts_backends[account][get_partition(region)]
    role = sts.assume_role(region_name=region, role_session_name=instance_id, role_arn=role_arn,
                           policy="", duration=3600, external_id="")
    return role.access_key_id, role.secret_access_key, role.session_token


def _environment(invocation: Invocation, directory: str, bin_dir: str, role_arn: str) -> dict[str, str]:
    command = invocation.command
    key_id, secret, token = _credentials(role_arn, command.account, command.region,
                                         invocation.instance_id)
    ca_file = os.path.join(_ctx.data_dir, "sandbox-ca.pem") if _ctx is not None else ""
    return {
        "PATH": f"{bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": directory,
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": token,
        "AWS_REGION": command.region,
        "AWS_DEFAULT_REGION": command.region,
        "AWS_ENDPOINT_URL": getattr(_ctx, "endpoint_url", "") or "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SSM_INSTANCE_ID": invocation.instance_id,
        "AWS_SSM_REGION_NAME": command.region,
        "SSM_COMMAND_ID": command.id,
        "CURL_CA_BUNDLE": ca_file,
        "SSL_CERT_FILE": ca_file,
    }


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(_READ_LIMIT)
    except OSError:
        return b""


def _execute(invocation: Invocation, role_arn: str, vpc_id: str | None) -> None:
    command = invocation.command
    directory = instance_dir(invocation.instance_id)
    work = os.path.join(directory, "var/lib/amazon/ssm", invocation.instance_id,
                        "document/orchestration", command.id,
                        "awsrunShellScript/0.awsrunShellScript")
    try:
        os.makedirs(work, exist_ok=True)
        os.chmod(directory, 0o700)
        bin_dir = _prepare_bin(directory, _routes(command.account, command.region, vpc_id))
        script = os.path.join(work, "_script.sh")
        with open(script, "w") as f:
            f.write("\n".join(command.commands) + "\n")
        wanted = (command.request.get("Parameters") or {}).get("workingDirectory") or [""]
        cwd = os.path.join(directory, str(wanted[0]).lstrip("/")) if wanted[0] else directory
        cwd = cwd if os.path.isdir(cwd) else directory
        env = _environment(invocation, directory, bin_dir, role_arn)
        with open(os.path.join(work, "stdout"), "wb") as out, \
                open(os.path.join(work, "stderr"), "wb") as err:
            with _lock:
                if invocation.cancel_requested or invocation.instance_gone:
                    return _ended_before_start(invocation)
                invocation.process = subprocess.Popen(
                    [shutil.which("bash") or "/bin/bash", script], stdin=subprocess.DEVNULL,
                    stdout=out, stderr=err, cwd=cwd, env=env, start_new_session=True)
        try:
            code = invocation.process.wait(timeout=command.execution_timeout)
        except subprocess.TimeoutExpired:
            with _lock:
                invocation.timed_out = True
                _kill(invocation)
            code = _wait(invocation.process)
        with _lock:
            _kill(invocation)  # background jobs the script left behind
        _collect(invocation, code, work)
    except Exception as err:  # noqa: BLE001 - the agent reports its own failures as Failed
        with _lock:
            invocation.stderr = _appended(invocation.stderr,
                                          f"failed to run commands: {type(err).__name__}: {err}")
            if invocation.status not in TERMINAL:
                _finish(invocation, "Failed", "Failed", 1)
    finally:
        with _lock:
            _running.discard(invocation)
            _lock.notify_all()


def _ended_before_start(invocation: Invocation) -> None:
    if invocation.status not in TERMINAL:
        _finish(invocation, "Cancelled", "Cancelled", -1)


def _wait(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=_KILL_WAIT)
    except subprocess.TimeoutExpired:
        return -signal.SIGKILL


def _collect(invocation: Invocation, code: int, work: str) -> None:
    stdout, stderr = _read(os.path.join(work, "stdout")), _read(os.path.join(work, "stderr"))
    with _lock:
        invocation.stdout, invocation.stderr = stdout, stderr
        if invocation.instance_gone or invocation.status in TERMINAL:
            return
        if invocation.cancel_requested:
            _finish(invocation, "Cancelled", "Cancelled", STOPPED_EXIT)
        elif invocation.timed_out:
            _finish(invocation, "TimedOut", "ExecutionTimedOut", STOPPED_EXIT)
        elif code == 0:
            _finish(invocation, "Success", "Success", 0)
        else:
            if code < 0:  # killed by a signal: Go's ExitStatus() is -1, the error names the signal
                reason = f"signal: {signal.Signals(-code).name[3:].lower()}"
                code = -1
            else:
                reason = f"exit status {code}"
            invocation.stderr = _appended(invocation.stderr, f"failed to run commands: {reason}")
            _finish(invocation, "Failed", "Failed", code)


def _appended(stderr: bytes, line: str) -> bytes:
    # The agent writes the error into the still-open stderr stream, whose text it has not read
    # back yet, so no separator is added: "…No such file or directoryfailed to run commands: …".
    return stderr + line.encode()


def _start(invocation: Invocation) -> None:
    """Delivers a visible Pending invocation to its instance; called under _lock."""
    command = invocation.command
    try:
        instance = _ec2(command.account, command.region).get_instance(invocation.instance_id)
    except Exception:  # noqa: BLE001 - gone since SendCommand
        _finish(invocation, "Failed", "Undeliverable", -1)
        return
    # The agent takes commands only while connected; otherwise they wait for delivery.
    if ping_status(command.account, command.region, instance) != "Online":
        return
    role = instance_role(command.account, command.region, instance)
    invocation.status = invocation.details = "InProgress"
    invocation.started = _utcnow()
    _running.add(invocation)
    threading.Thread(target=_execute, args=(invocation, role.arn, instance.vpc_id),
                     name=f"ssm-{invocation.instance_id}", daemon=True).start()


def _schedule_once() -> float:
    """One pass over the waiting invocations; called under _lock. Returns how long the next
    pass may wait: until the soonest invocation becomes visible, at most _TICK."""
    now, clock = _utcnow(), time.monotonic()
    wait = _TICK
    for command in list(_order):
        for invocation in command.invocations.values():
            if invocation.status != "Pending":
                continue
            if now - command.requested > datetime.timedelta(seconds=command.delivery_timeout):
                _finish(invocation, "TimedOut", "DeliveryTimedOut", -1)
            elif len(_running) < MAX_RUNNING and invocation.visible():
                _start(invocation)
            elif invocation.visible_at > clock:
                wait = min(wait, invocation.visible_at - clock)
    return max(wait, 0.005)


def _scheduler() -> None:
    with _lock:
        while _state["running"]:
            try:
                wait = _schedule_once()
            except Exception:  # noqa: BLE001 - one bad pass must not stop delivery for good
                wait = _TICK
            _lock.wait(wait)


# --- instances going away -----------------------------------------------------------------------


def _instance_down(instance_id: str, remove_disk: bool) -> None:
    with _lock:
        for command in _order:
            invocation = command.invocations.get(instance_id)
            if invocation is None or invocation.status in TERMINAL:
                continue
            if invocation.status == "Pending" and not remove_disk:
                continue  # a stopped instance gets it when it is back, within the timeout
            invocation.instance_gone = True
            _kill(invocation)
            if invocation.status == "Pending":
                _finish(invocation, "Failed", "Undeliverable", -1)
            else:
                _finish(invocation, "Failed", "Failed", -1)
        if remove_disk:
            _nodes.pop(instance_id, None)
        _lock.notify_all()
    if remove_disk and _state["root"]:
        shutil.rmtree(instance_dir(instance_id), ignore_errors=True)


def _hook_instance_lifecycle() -> None:
    from moto.ec2.models.instances import Instance

    if getattr(Instance.terminate, "_xwizard", False):
        return
    terminate, stop = Instance.terminate, Instance.stop

    def terminated(self: Any) -> Any:
        previous = terminate(self)
        _instance_down(self.id, remove_disk=True)
        return previous

    def stopped(self: Any) -> Any:
        previous = stop(self)
        _instance_down(self.id, remove_disk=False)
        return previous

    terminated._xwizard = True  # type: ignore[attr-defined]
    Instance.terminate, Instance.stop = terminated, stopped


def forget_all() -> None:
    """A reset: every command ends, every node and disk is forgotten."""
    with _lock:
        for invocation in list(_running):
            invocation.instance_gone = True
            _kill(invocation)
        _commands.clear()
        _order.clear()
        _nodes.clear()
        _lock.notify_all()
    if _state["root"]:
        shutil.rmtree(_state["root"], ignore_errors=True)


def stop_all() -> None:
    """The emulator stops: no more deliveries, every running script is killed."""
    with _lock:
        _state["running"] = False
        for invocation in list(_running):
            invocation.instance_gone = True
            _kill(invocation)
        _lock.notify_all()


# --- answers ------------------------------------------------------------------------------------


def _epoch(moment: datetime.datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def _iso(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _elapsed(invocation: Invocation) -> str:
    if invocation.started is None:
        return ""
    end = invocation.ended or _utcnow()
    return f"PT{(end - invocation.started).total_seconds():.3f}S"


def string_prefix(data: bytes, limit: int) -> str:
    """pluginutil.StringPrefix: the first `limit` bytes, the last ones replaced by the marker."""
    if len(data) < limit:
        return data.decode(errors="replace")
    return (data[:limit - len(TRUNCATED)] + TRUNCATED.encode()).decode(errors="replace")


def plugin_output(stdout: bytes, stderr: bytes, capacity: int = PLUGIN_OUTPUT_LIMIT) -> str:
    """iohandler.TruncateOutput: what ListCommandInvocations shows as a plugin's Output."""
    title = b"\n----------ERROR-------\n" if stderr else b""
    space = capacity - len(title)
    cut_out, cut_err = b"\n---Output truncated---", b"\n---Error truncated----"
    if len(stdout) + len(stderr) < space:
        text = stdout + title + stderr
    elif len(stdout) > space // 2 and len(stderr) > space // 2:
        size = space - len(cut_err) - len(cut_out)
        text = stdout[:size // 2] + cut_out + title + stderr[:size // 2] + cut_err
    elif len(stdout) <= space // 2:
        size = space - len(cut_err)
        text = stdout + title + stderr[:size - len(stdout)] + cut_err
    else:
        size = space - len(cut_out)
        text = stdout[:size - len(stderr)] + cut_out + title + stderr
    return text.decode(errors="replace")


def _finished(invocation: Invocation) -> bool:
    return invocation.status in TERMINAL


def invocation_json(invocation: Invocation) -> dict[str, Any]:
    """GetCommandInvocation's answer."""
    command = invocation.command
    done = _finished(invocation)
    return {
        "CommandId": command.id,
        "InstanceId": invocation.instance_id,
        "Comment": command.request.get("Comment", ""),
        "DocumentName": command.request.get("DocumentName"),
        "DocumentVersion": command.request.get("DocumentVersion", ""),
        "PluginName": PLUGIN,
        "ResponseCode": invocation.response_code,
        "ExecutionStartDateTime": _iso(invocation.started),
        "ExecutionElapsedTime": _elapsed(invocation),
        "ExecutionEndDateTime": _iso(invocation.ended) if invocation.started else "",
        "Status": invocation.status,
        "StatusDetails": invocation.details,
        "StandardOutputContent": string_prefix(invocation.stdout, STDOUT_LIMIT) if done else "",
        "StandardOutputUrl": "",
        "StandardErrorContent": string_prefix(invocation.stderr, STDERR_LIMIT) if done else "",
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": _cloudwatch(command),
    }


def _cloudwatch(command: Command) -> dict[str, Any]:
    return command.request.get("CloudWatchOutputConfig") or {
        "CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}


def _notification(command: Command) -> dict[str, Any]:
    return command.request.get("NotificationConfig") or {
        "NotificationArn": "", "NotificationEvents": [], "NotificationType": ""}


def listed_invocation_json(invocation: Invocation, details: bool) -> dict[str, Any]:
    """A ListCommandInvocations entry."""
    command = invocation.command
    plugins = []
    if details:
        done = _finished(invocation)
        plugins.append({
            "Name": PLUGIN,
            "Status": invocation.status,
            "StatusDetails": invocation.details,
            "ResponseCode": invocation.response_code,
            "ResponseStartDateTime": _epoch(invocation.started),
            "ResponseFinishDateTime": _epoch(invocation.ended) if invocation.started else None,
            "Output": plugin_output(invocation.stdout, invocation.stderr) if done else "",
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
            "OutputS3Region": command.request.get("OutputS3Region") or command.region,
            "OutputS3BucketName": command.request.get("OutputS3BucketName", ""),
            "OutputS3KeyPrefix": command.request.get("OutputS3KeyPrefix", ""),
        })
        plugins[0] = {k: v for k, v in plugins[0].items() if v is not None}
    return {
        "CommandId": command.id,
        "InstanceId": invocation.instance_id,
        "InstanceName": "",
        "Comment": command.request.get("Comment", ""),
        "DocumentName": command.request.get("DocumentName"),
        "DocumentVersion": command.request.get("DocumentVersion", ""),
        "RequestedDateTime": _epoch(command.requested),
        "Status": invocation.status,
        "StatusDetails": invocation.details,
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": plugins,
        "ServiceRole": command.request.get("ServiceRoleArn", ""),
        "NotificationConfig": _notification(command),
        "CloudWatchOutputConfig": _cloudwatch(command),
    }


def _command_status(command: Command) -> tuple[str, str]:
    states = [i.status for i in command.invocations.values()]
    if all(s == "Pending" for s in states):
        return "Pending", "Pending"
    if "Cancelling" in states:
        return "Cancelling", "Cancelling"
    if any(s in ("Pending", "InProgress") for s in states):
        return "InProgress", "InProgress"
    if all(s == "Success" for s in states):
        return "Success", "Success"
    if "Cancelled" in states:
        return "Cancelled", "Cancelled"
    if len(states) == 1:
        only = next(iter(command.invocations.values()))
        return only.status, only.details
    return "Failed", "Failed"


def command_json(command: Command) -> dict[str, Any]:
    """The Command of SendCommand and ListCommands."""
    request = command.request
    invocations = list(command.invocations.values())
    status, details = _command_status(command)
    expires = command.requested + datetime.timedelta(
        seconds=command.delivery_timeout + command.execution_timeout)
    return {
        "CommandId": command.id,
        "DocumentName": request.get("DocumentName"),
        "DocumentVersion": request.get("DocumentVersion", ""),
        "Comment": request.get("Comment", ""),
        "ExpiresAfter": _epoch(expires),
        "Parameters": request.get("Parameters") or {},
        "InstanceIds": list(request.get("InstanceIds") or []),
        "Targets": request.get("Targets") or [],
        "RequestedDateTime": _epoch(command.requested),
        "Status": status,
        "StatusDetails": details,
        "OutputS3Region": request.get("OutputS3Region") or command.region,
        "OutputS3BucketName": request.get("OutputS3BucketName", ""),
        "OutputS3KeyPrefix": request.get("OutputS3KeyPrefix", ""),
        "MaxConcurrency": request.get("MaxConcurrency", "50"),
        "MaxErrors": request.get("MaxErrors", "0"),
        "TargetCount": len(invocations),
        "CompletedCount": sum(1 for i in invocations if _finished(i)),
        "ErrorCount": sum(1 for i in invocations if i.status == "Failed"
                          or i.details == "ExecutionTimedOut"),
        "DeliveryTimedOutCount": sum(1 for i in invocations if i.details == "DeliveryTimedOut"),
        "ServiceRole": request.get("ServiceRoleArn", ""),
        "NotificationConfig": _notification(command),
        "CloudWatchOutputConfig": _cloudwatch(command),
        "TimeoutSeconds": command.delivery_timeout,
    }


def _computer_name(instance: Any, region: str) -> str:
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{(instance.private_ip or '').replace('.', '-')}.{domain}"


def instance_information_json(instance: Any, region: str, status: str) -> dict[str, Any]:
    node = _nodes.get(instance.id)
    windows = (instance.platform or "").lower() == "windows"
    return {
        "InstanceId": instance.id,
        "PingStatus": status,
        "LastPingDateTime": _epoch(node.last_ping if node else None) or time.time(),
        "AgentVersion": AGENT_VERSION,
        "IsLatestVersion": True,
        "PlatformType": "Windows" if windows else "Linux",
        "PlatformName": "Microsoft Windows Server" if windows else "Amazon Linux",
        "PlatformVersion": "" if windows else "2023",
        "ResourceType": "EC2Instance",
        "IPAddress": instance.private_ip,
        "ComputerName": _computer_name(instance, region),
        "SourceId": instance.id,
        "SourceType": "AWS::EC2::Instance",
    }


# --- the API ------------------------------------------------------------------------------------


def _page(items: list[Any], request: dict[str, Any], default: int, most: int) -> tuple[list[Any], str | None]:
    size = request.get("MaxResults") or default
    if not isinstance(size, int) or not 1 <= size <= most:
        raise ValidationException(f"MaxResults must be between 1 and {most}.")
    start = 0
    token = request.get("NextToken")
    if token:
        try:
            start = int(token)
        except ValueError:
            raise ValidationException("The NextToken is not valid.") from None
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _filter_values(request: dict[str, Any]) -> dict[str, list[str]]:
    """DescribeInstanceInformation's two filter forms, as one mapping."""
    found: dict[str, list[str]] = {}
    for item in request.get("InstanceInformationFilterList") or []:
        found.setdefault(item.get("key", ""), []).extend(item.get("valueSet") or [])
    for item in request.get("Filters") or []:
        found.setdefault(item.get("Key", ""), []).extend(item.get("Values") or [])
    return found


def _matches(instance: Any, info: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    tags = {t["key"]: t["value"] for t in instance.get_tags()}
    for key, values in filters.items():
        if key == "InstanceIds" and info["InstanceId"] not in values:
            return False
        if key == "PingStatus" and info["PingStatus"] not in values:
            return False
        if key == "PlatformTypes" and info["PlatformType"] not in values:
            return False
        if key == "ResourceType" and info["ResourceType"] not in values:
            return False
        if key == "tag-key" and not any(v in tags for v in values):
            return False
        if key.startswith("tag:") and tags.get(key[4:]) not in values:
            return False
        if key not in ("InstanceIds", "PingStatus", "PlatformTypes", "ResourceType", "tag-key") \
                and not key.startswith("tag:"):
            raise InvalidFilterKey(f"The filter key {key} is not valid.")
    return True


def describe_instance_information(self: Any) -> str:
    request = json.loads(self.body or "{}")
    account, region = self.current_account, self.region
    filters = _filter_values(request)
    listed = []
    for instance in sorted(_instances(account, region), key=lambda i: i.id):
        status = ping_status(account, region, instance)
        if status is None:
            continue
        info = instance_information_json(instance, region, status)
        if _matches(instance, info, filters):
            listed.append(info)
    page, token = _page(listed, request, 50, 50)
    answer: dict[str, Any] = {"InstanceInformationList": page}
    if token:
        answer["NextToken"] = token
    return json.dumps(answer)


def _send_command(self: Any) -> str:
    request = json.loads(self.body or "{}")
    command = send_command(self.current_account, self.region, request)
    with _lock:
        return json.dumps({"Command": command_json(command)})


def _own(command: Command, account: str, region: str) -> bool:
    return (command.account, command.region) == (account, region)


def _get_command_invocation(self: Any) -> str:
    request = json.loads(self.body or "{}")
    plugin = request.get("PluginName")
    with _lock:
        command = _commands.get(request.get("CommandId", ""))
        invocation = command.invocations.get(request.get("InstanceId", "")) \
            if command is not None and _own(command, self.current_account, self.region) else None
        if invocation is None or not invocation.visible():
            raise InvocationDoesNotExist()
        if plugin is not None and plugin != PLUGIN:
            raise InvalidPluginName()
        return json.dumps(invocation_json(invocation))


def _time_filters(request: dict[str, Any]) -> list[Callable[[Command, Invocation | None], bool]]:
    tests: list[Callable[[Command, Invocation | None], bool]] = []
    for item in request.get("Filters") or []:
        key, value = item.get("key"), item.get("value", "")
        if key in ("InvokedAfter", "InvokedBefore"):
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.timezone.utc)
            after = key == "InvokedAfter"
            tests.append(lambda c, _i, m=moment, a=after: c.requested >= m if a else c.requested <= m)
        elif key == "Status":
            tests.append(lambda c, i, v=value: (i.status if i else _command_status(c)[0]) == v)
        elif key == "DocumentName":
            tests.append(lambda c, _i, v=value: c.request.get("DocumentName") == v)
        elif key == "ExecutionStage":
            tests.append(lambda c, i, v=value: (v == "Executing") ==
                         ((i.status if i else _command_status(c)[0]) in ("Pending", "InProgress")))
        else:
            raise InvalidFilterKey(f"The filter key {key} is not valid.")
    return tests


def _selected(self: Any, request: dict[str, Any]) -> list[Command]:
    command_id = request.get("CommandId")
    commands = [c for c in reversed(_order) if _own(c, self.current_account, self.region)]
    if command_id:
        commands = [c for c in commands if c.id == command_id]
        if not commands:
            raise InvalidCommandId()
    return commands


def _list_commands(self: Any) -> str:
    request = json.loads(self.body or "{}")
    with _lock:
        tests = _time_filters(request)
        instance_id = request.get("InstanceId")
        commands = [c for c in _selected(self, request)
                    if (not instance_id or instance_id in c.invocations)
                    and all(t(c, None) for t in tests)]
        page, token = _page(commands, request, 50, 50)
        answer: dict[str, Any] = {"Commands": [command_json(c) for c in page]}
    if token:
        answer["NextToken"] = token
    return json.dumps(answer)


def list_command_invocations(self: Any) -> str:
    request = json.loads(self.body or "{}")
    with _lock:
        tests = _time_filters(request)
        instance_id = request.get("InstanceId")
        invocations = [i for c in _selected(self, request) for i in c.invocations.values()
                       if i.visible() and (not instance_id or i.instance_id == instance_id)
                       and all(t(c, i) for t in tests)]
        page, token = _page(invocations, request, 50, 50)
        details = bool(request.get("Details"))
        answer: dict[str, Any] = {"CommandInvocations": [listed_invocation_json(i, details)
                                                         for i in page]}
    if token:
        answer["NextToken"] = token
    return json.dumps(answer)


def cancel_command(self: Any) -> str:
    request = json.loads(self.body or "{}")
    cancel(self.current_account, self.region, request.get("CommandId", ""),
           list(request.get("InstanceIds") or []))
    return "{}"


def install(ctx: Any) -> None:
    global _ctx
    import control_api
    from moto.ssm.responses import SimpleSystemManagerResponse as Response

    _ctx = ctx
    _PACE["ssm_online"] = ctx.pace.get("ssm_online", _PACE["ssm_online"])
    _PACE["ssm_visible"] = ctx.pace.get("ssm_visible", _PACE["ssm_visible"])
    with _lock:
        if _state["running"]:
            return
        _state["running"] = True
        _state["root"] = os.path.join(ctx.data_dir, "instances")
    os.makedirs(_state["root"], mode=0o700, exist_ok=True)
    Response.send_command = _send_command
    Response.get_command_invocation = _get_command_invocation
    Response.list_commands = _list_commands
    Response.list_command_invocations = list_command_invocations
    Response.cancel_command = cancel_command
    Response.describe_instance_information = describe_instance_information
    _hook_instance_lifecycle()
    control_api.on_reset(forget_all)
    thread = threading.Thread(target=_scheduler, name="ssm-run-command", daemon=True)
    _state["scheduler"] = thread
    thread.start()
