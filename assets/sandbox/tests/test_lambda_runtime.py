"""Lambda Invoke runs a Python function's inline code, as the function's account, on the
sandbox's network (execute-api names reach the data plane; a VPC function goes through its
VPC's execute-api endpoint)."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import zipfile
from types import SimpleNamespace

from conftest import CONSUMER, PRODUCER, wait_until

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from test_data_plane import (
    REGION,
    WIDGET,
    api_url,
    consumer_network,
    producer_api,
    python_function,
)

ECHO_CODE = """
import os
import boto3

def handler(event, context):
    identity = boto3.client("sts").get_caller_identity()
    return {
        "event": event,
        "greeting": os.environ.get("GREETING"),
        "region": os.environ["AWS_REGION"],
        "account": identity["Account"],
        "function": context.function_name,
        "remaining_positive": context.get_remaining_time_in_millis() > 0,
    }
"""

FAILING_CODE = """
def handler(event, context):
    print("about to fail")
    raise ValueError("widget missing")
"""

SLOW_CODE = """
import time

def handler(event, context):
    time.sleep(30)
"""

CALLER_CODE = """
import os
import urllib.error
import urllib.request

def handler(event, context):
    try:
        with urllib.request.urlopen(os.environ["apiUrl"], timeout=240) as resp:
            return {"statusCode": resp.status, "body": resp.read().decode()}
    except urllib.error.HTTPError as err:
        return {"statusCode": err.code, "body": err.read().decode()}
"""


def invoke(sandbox, role: str, name: str, event: dict | None = None, **kwargs) -> dict:
    resp = sandbox.client("lambda", role).invoke(
        FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    resp["body"] = json.loads(resp["Payload"].read() or b"null")
    return resp


def test_invoke_returns_the_handlers_result_with_env_and_the_functions_account(fresh):
    python_function(fresh, "consumer", "echo", ECHO_CODE, env={"GREETING": "hello"})
    resp = invoke(fresh, "consumer", "echo", {"widget": 1})
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert resp["body"] == {
        "event": {"widget": 1}, "greeting": "hello", "region": REGION, "account": CONSUMER,
        "function": "echo", "remaining_positive": True,
    }


def test_errors_are_shaped_as_lambdas(fresh):
    python_function(fresh, "producer", "failing", FAILING_CODE)
    resp = invoke(fresh, "producer", "failing", LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert resp["body"]["errorType"] == "ValueError"
    assert resp["body"]["errorMessage"] == "widget missing"
    assert any("raise ValueError" in line for line in resp["body"]["stackTrace"])
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "about to fail" in log and log.startswith("START RequestId:")


def test_a_function_is_stopped_at_its_timeout(fresh):
    python_function(fresh, "producer", "slow", SLOW_CODE, timeout=1)
    resp = invoke(fresh, "producer", "slow")
    assert resp["FunctionError"] == "Unhandled"
    assert resp["body"]["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in resp["body"]["errorMessage"]


def test_a_missing_handler_is_reported_as_lambda_reports_it(fresh):
    fn = python_function(fresh, "producer", "nohandler", "x = 1\n")
    resp = invoke(fresh, "producer", fn)
    assert resp["FunctionError"] == "Unhandled"
    assert resp["body"]["errorType"] == "Runtime.HandlerNotFound"


def test_only_python_functions_with_their_source_are_run_here():
    # Everything else is left to moto's own Invoke (docker, or its echo with docker off);
    # judged in-process so that no docker daemon is ever asked to pull an image.
    import lambda_runtime

    def fn(runtime: str, handler: str, files: dict[str, str]) -> SimpleNamespace:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return SimpleNamespace(run_time=runtime, handler=handler, package_type="Zip",
                               code_bytes=buf.getvalue())

    assert lambda_runtime.runnable(fn("python3.12", "index.handler", {"index.py": ""}))
    assert lambda_runtime.runnable(fn("python3.12", "pkg.app.handler", {"pkg/app.py": ""}))
    assert not lambda_runtime.runnable(fn("nodejs22.x", "index.handler", {"index.js": ""}))
    assert not lambda_runtime.runnable(fn("python3.12", "main.handler", {"index.py": ""}))
    image = fn("python3.12", "index.handler", {"index.py": ""})
    image.package_type = "Image"
    assert not lambda_runtime.runnable(image)


def test_a_vpc_function_reaches_the_private_api_through_its_endpoint(fresh):
    net = consumer_network(fresh, "consumer", "10.0.0.0/16")
    api = producer_api(fresh, net.vpce_id, "unused", authorized=False)
    vpc = {"SubnetIds": net.subnet_ids, "SecurityGroupIds": [net.security_group_id]}
    python_function(fresh, "consumer", "in-vpc", CALLER_CODE, env={"apiUrl": api_url(api)}, vpc=vpc)
    python_function(fresh, "consumer", "outside", CALLER_CODE, env={"apiUrl": api_url(api)})

    inside = invoke(fresh, "consumer", "in-vpc")["body"]
    assert inside["statusCode"] == 200, inside
    assert json.loads(inside["body"]) == WIDGET

    outside = invoke(fresh, "consumer", "outside")["body"]
    assert outside["statusCode"] == 403, outside
    assert PRODUCER in json.loads(outside["body"])["Message"]


def test_a_vpc_without_the_producers_endpoint_is_refused(fresh):
    allowed = consumer_network(fresh, "allowed", "10.0.0.0/16")
    other = consumer_network(fresh, "other", "10.1.0.0/16")
    api = producer_api(fresh, allowed.vpce_id, "unused", authorized=False)
    vpc = {"SubnetIds": other.subnet_ids, "SecurityGroupIds": [other.security_group_id]}
    python_function(fresh, "consumer", "elsewhere", CALLER_CODE, env={"apiUrl": api_url(api)},
                    vpc=vpc)
    answer = invoke(fresh, "consumer", "elsewhere")["body"]
    assert answer["statusCode"] == 403
    assert json.loads(answer["body"])["Message"].endswith("with an explicit deny")


def test_source_markers_verify_only_unaltered_and_unexpired():
    import time

    import lambda_runtime

    fresh_marker = lambda_runtime.sign_source("vpce-0123456789abcdef0", int(time.time()) + 60)
    assert lambda_runtime.verify_source("vpce-0123456789abcdef0", fresh_marker)
    assert not lambda_runtime.verify_source("vpce-0fedcba9876543210", fresh_marker)
    stale = lambda_runtime.sign_source("vpce-0123456789abcdef0", int(time.time()) - 1)
    assert not lambda_runtime.verify_source("vpce-0123456789abcdef0", stale)
    assert not lambda_runtime.verify_source("vpce-0123456789abcdef0", None)


STACK = {
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 300,
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Environment": {"Variables": {"GREETING": "from-cfn"}},
            "Code": {"ZipFile": "import os\n\ndef handler(event, context):\n"
                                "    return {'greeting': os.environ['GREETING']}\n"}}},
    },
    "Outputs": {"FunctionName": {"Value": {"Ref": "Fn"}}},
}


def test_a_cloudformation_inline_function_runs(fresh):
    cfn = fresh.client("cloudformation", "producer")
    cfn.create_stack(StackName="inline", TemplateBody=json.dumps(STACK),
                     Capabilities=["CAPABILITY_IAM"])

    def complete():
        stack = cfn.describe_stacks(StackName="inline")["Stacks"][0]
        assert not stack["StackStatus"].endswith("FAILED"), stack
        return stack if stack["StackStatus"] == "CREATE_COMPLETE" else None

    stack = wait_until(complete, what="the inline-function stack")
    name = stack["Outputs"][0]["OutputValue"]
    assert invoke(fresh, "producer", name)["body"] == {"greeting": "from-cfn"}


def test_an_event_invocation_runs_in_the_background_and_logs(fresh):
    python_function(fresh, "producer", "background", FAILING_CODE)
    resp = fresh.client("lambda", "producer").invoke(
        FunctionName="background", InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202
    logs = fresh.client("logs", "producer")

    def logged():
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/background")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return None
        return [e["message"] for e in events if "about to fail" in e["message"]]

    assert wait_until(logged, what="the background invocation's log")
