"""The behaviours that mend moto's services are installed before the first request that needs
them, whatever that request is, and exactly once."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import boto3
import botocore.config

from conftest import DEADLINE, EMULATOR, Sandbox, wait_until

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import first_use  # noqa: E402


@contextmanager
def own_emulator():
    """An emulator of this test's own: the session's has long had every stage run."""
    with tempfile.TemporaryDirectory(prefix="xwizard-first-use-") as tmp:
        ready = os.path.join(tmp, "ready.json")
        log = open(os.path.join(tmp, "emulator.log"), "w")
        proc = subprocess.Popen([sys.executable, EMULATOR, "--ready-file", ready, "--data-dir", tmp],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            def started():
                assert proc.poll() is None, open(log.name).read()[-4000:]
                return os.path.exists(ready)

            wait_until(started, what="the emulator's ready file")
            with open(ready) as f:
                yield Sandbox(json.load(f))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()


def test_stages_run_their_steps_once_in_order_and_callers_wait():
    ran: list[str] = []

    def slow() -> None:
        time.sleep(0.3)
        ran.append("slow")

    stages = first_use.Stages([lambda: ran.append("identity")], [slow, lambda: ran.append("last")])
    threads = [threading.Thread(target=stages.services.ensure) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stages.identity.ensure()
    stages.ensure_all()
    assert ran == ["identity", "slow", "last"]


def test_a_failed_stage_is_not_run_again():
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("broken")

    stage = first_use.Stage("services", [broken])
    for _ in range(2):
        try:
            stage.ensure()
        except (ValueError, RuntimeError):
            pass
    assert calls == [1] and not stage.done


def test_requests_are_told_apart_by_the_service_they_are_signed_for():
    header = ("AWS4-HMAC-SHA256 Credential=AKIAXWIZARDPRODUCER1/20260101/us-east-1/"
              "cloudformation/aws4_request, SignedHeaders=host, Signature=abc")
    assert first_use.service_of_request({"HTTP_AUTHORIZATION": header}) == "cloudformation"
    query = "X-Amz-Credential=AKIAX%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=1"
    assert first_use.service_of_request({"QUERY_STRING": query}) == "s3"
    assert first_use.service_of_request({}) is None

    ran: list[str] = []
    stages = first_use.Stages([lambda: ran.append("identity")], [lambda: ran.append("services")])
    stages.before_request({"PATH_INFO": "/moto-api/"})
    assert ran == []
    sts = header.replace("cloudformation", "sts")
    stages.before_request({"PATH_INFO": "/", "HTTP_AUTHORIZATION": sts})
    assert ran == ["identity"]
    stages.before_request({"PATH_INFO": "/", "HTTP_AUTHORIZATION": header})
    assert ran == ["identity", "services"]


def client(sandbox: Sandbox, service: str, role: str = "consumer"):
    return sandbox.client(service, role)


def test_a_stack_as_the_first_request_gets_the_sandboxs_cloudformation():
    # Fn::Cidr (cfn_intrinsics) and the resource-by-resource progress (async_cloudformation).
    template = {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}},
            "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": {"Fn::Select": [1, {"Fn::Cidr": ["10.9.0.0/16", 4, 8]}]}}},
        },
        "Outputs": {"Cidr": {"Value": {"Fn::Select": [1, {"Fn::Cidr": ["10.9.0.0/16", 4, 8]}]}}},
    }
    with own_emulator() as sandbox:
        cfn = client(sandbox, "cloudformation")
        cfn.create_stack(StackName="first", TemplateBody=json.dumps(template))

        def complete():
            stack = cfn.describe_stacks(StackName="first")["Stacks"][0]
            assert not stack["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")), stack
            return stack if stack["StackStatus"] == "CREATE_COMPLETE" else None

        stack = wait_until(complete, what="the first stack")
        assert stack["Outputs"][0]["OutputValue"] == "10.9.1.0/24"
        events = cfn.describe_stack_events(StackName="first")["StackEvents"]
        assert {e["LogicalResourceId"] for e in events} >= {"Vpc", "Subnet", "first"}
        # The identity stage ran too: the account answers as itself.
        assert client(sandbox, "sts").get_caller_identity()["Account"] == "222222222222"


def test_the_data_plane_as_the_first_request_answers_as_api_gateway():
    with own_emulator() as sandbox:
        plane = sandbox.info["data_plane"]
        ctx = ssl.create_default_context(cafile=plane["ca_file"])
        ctx.check_hostname = False
        req = urllib.request.Request(f"{plane['url']}/prod/",
                                     headers={"Host": "abc123.execute-api.us-east-1.amazonaws.com"})
        try:
            urllib.request.urlopen(req, context=ctx, timeout=DEADLINE)
            status, body = 200, b""
        except urllib.error.HTTPError as err:
            status, body = err.code, err.read()
        assert status == 403 and json.loads(body) == {"message": "Forbidden"}
        # A service first called after the data plane still has its sandbox behaviours:
        # an endpoint service's permissions (privatelink) as the first EC2 call of this account.
        ec2 = client(sandbox, "ec2", "producer")
        services = ec2.describe_vpc_endpoint_services()["ServiceNames"]
        assert any(name.endswith(".execute-api") for name in services)


def test_identity_first_then_a_service_later():
    with own_emulator() as sandbox:
        config = botocore.config.Config(connect_timeout=DEADLINE, read_timeout=DEADLINE)
        acct = sandbox.info["accounts"]["producer"]
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=sandbox.endpoint_url,
                           aws_access_key_id=acct["aws_access_key_id"],
                           aws_secret_access_key=acct["aws_secret_access_key"], config=config)
        assert sts.get_caller_identity()["Account"] == "111111111111"
        # The MFA role exists from the start, as the accounts do.
        roles = client(sandbox, "iam", "producer").list_roles()["Roles"]
        assert any(r["RoleName"] == "xwizard-sandbox-mfa" for r in roles)
        # A function made and invoked later runs its code (lambda_runtime was installed).
        from test_data_plane import python_function

        python_function(sandbox, "producer", "later", "def handler(e, c):\n    return {'ok': 1}\n")
        out = client(sandbox, "lambda", "producer").invoke(FunctionName="later")
        assert json.loads(out["Payload"].read()) == {"ok": 1}


def _moto_modules_after(code: str) -> set[str]:
    here = os.path.dirname(EMULATOR)
    script = (f"import sys; sys.path.insert(0, {here!r})\n{code}\n"
              "print('\\n'.join(m for m in sys.modules if m.startswith('moto.')))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=DEADLINE, check=True)
    return set(out.stdout.split())


def test_the_start_imports_no_moto_service_more_than_moto_s_own_server():
    plain = _moto_modules_after("import moto.moto_server.werkzeug_app")
    ours = _moto_modules_after(
        "import emulator, first_use, data_plane\n"
        "ctx = emulator.Context(pace=emulator.PACES['fast'], data_dir='/nonexistent')\n"
        "for module in emulator._behaviour_modules():\n"
        "    module.install(ctx)\n"
        "stages = first_use.Stages(emulator._identity_steps(ctx), emulator._service_steps(ctx))\n"
        "stages.guard_data_plane(data_plane)\n")
    assert ours - plain == set(), "imported at start: " + ", ".join(sorted(ours - plain))
