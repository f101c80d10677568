"""A function runs in a warm execution environment of its own: its init runs once, later
invokes reuse it, and what AWS would start anew (an update, a timeout, a reset, a second
invoke at once) gets a new environment."""

from __future__ import annotations

import base64
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from test_data_plane import api_url, consumer_network, producer_api, python_function, zip_code
from test_lambda_runtime import CALLER_CODE, WIDGET, invoke

COUNTING_CODE = """
import os
import time
import uuid

ENVIRONMENT = uuid.uuid4().hex
print("init ran")
calls = 0


def handler(event, context):
    global calls
    calls += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"environment": ENVIRONMENT, "calls": calls, "pid": os.getpid(),
            "greeting": os.environ.get("GREETING")}
"""


def test_init_runs_once_across_warm_invokes(fresh):
    python_function(fresh, "producer", "counting", COUNTING_CODE)
    first = invoke(fresh, "producer", "counting", LogType="Tail")
    second = invoke(fresh, "producer", "counting", LogType="Tail")
    third = invoke(fresh, "producer", "counting")
    assert [r["body"]["calls"] for r in (first, second, third)] == [1, 2, 3]
    assert first["body"]["environment"] == second["body"]["environment"] == third["body"]["environment"]
    cold = base64.b64decode(first["LogResult"]).decode()
    warm = base64.b64decode(second["LogResult"]).decode()
    assert "init ran" in cold and "Init Duration:" in cold
    assert "init ran" not in warm and "Init Duration:" not in warm
    assert warm.startswith("START RequestId:") and "REPORT RequestId:" in warm


def test_a_warm_environment_is_not_shared_between_functions(fresh):
    python_function(fresh, "producer", "one", COUNTING_CODE, env={"GREETING": "one"})
    python_function(fresh, "producer", "two", COUNTING_CODE, env={"GREETING": "two"})
    python_function(fresh, "consumer", "one", COUNTING_CODE, env={"GREETING": "three"})
    answers = [invoke(fresh, role, name)["body"]
               for role, name in (("producer", "one"), ("producer", "two"), ("consumer", "one"))]
    assert [a["calls"] for a in answers] == [1, 1, 1]
    assert [a["greeting"] for a in answers] == ["one", "two", "three"]
    assert len({a["environment"] for a in answers}) == 3
    assert len({a["pid"] for a in answers}) == 3
    again = invoke(fresh, "producer", "two")["body"]
    assert (again["environment"], again["calls"]) == (answers[1]["environment"], 2)


def test_an_update_gets_a_new_environment(fresh):
    python_function(fresh, "producer", "updated", COUNTING_CODE, env={"GREETING": "before"})
    before = invoke(fresh, "producer", "updated")["body"]
    lam = fresh.client("lambda", "producer")
    lam.update_function_configuration(FunctionName="updated",
                                      Environment={"Variables": {"GREETING": "after"}})
    after = invoke(fresh, "producer", "updated")["body"]
    assert (after["greeting"], after["calls"]) == ("after", 1)
    assert after["environment"] != before["environment"]
    lam.update_function_code(FunctionName="updated",
                             ZipFile=zip_code(COUNTING_CODE + "\nVERSION = 2\n"))
    code_changed = invoke(fresh, "producer", "updated")["body"]
    assert code_changed["calls"] == 1 and code_changed["environment"] != after["environment"]


def test_a_timeout_resets_the_environment_and_an_exception_does_not(fresh):
    python_function(fresh, "producer", "flaky", COUNTING_CODE, timeout=2)
    first = invoke(fresh, "producer", "flaky")["body"]
    failed = invoke(fresh, "producer", "flaky", {"fail": True})
    assert failed["body"]["errorType"] == "RuntimeError"
    kept = invoke(fresh, "producer", "flaky")["body"]
    assert (kept["environment"], kept["calls"]) == (first["environment"], 3)
    timed_out = invoke(fresh, "producer", "flaky", {"sleep": 30})
    assert timed_out["body"]["errorType"] == "Sandbox.Timedout"
    fresh_env = invoke(fresh, "producer", "flaky")["body"]
    assert fresh_env["calls"] == 1 and fresh_env["environment"] != first["environment"]
    try:
        os.kill(first["pid"], 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the timed-out environment's interpreter is still running"


def test_invokes_at_once_use_an_environment_each(fresh):
    python_function(fresh, "producer", "busy", COUNTING_CODE)
    answers: list[dict] = []

    def call() -> None:
        answers.append(invoke(fresh, "producer", "busy", {"sleep": 1.5})["body"])

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(answers) == 2
    assert answers[0]["environment"] != answers[1]["environment"]
    assert [a["calls"] for a in answers] == [1, 1]


def test_a_reset_ends_the_environments(sandbox):
    sandbox.control("reset", {})
    python_function(sandbox, "producer", "doomed", COUNTING_CODE)
    pid = invoke(sandbox, "producer", "doomed")["body"]["pid"]
    sandbox.control("reset", {})
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the environment outlived the reset"


def test_a_warm_vpc_function_keeps_reaching_the_private_api(fresh):
    # Each invoke carries its own signed source-endpoint marker, warm or cold.
    net = consumer_network(fresh, "consumer", "10.0.0.0/16")
    api = producer_api(fresh, net.vpce_id, "unused", authorized=False)
    vpc = {"SubnetIds": net.subnet_ids, "SecurityGroupIds": [net.security_group_id]}
    python_function(fresh, "consumer", "in-vpc", CALLER_CODE, env={"apiUrl": api_url(api)}, vpc=vpc)
    for _ in range(3):
        answer = invoke(fresh, "consumer", "in-vpc")["body"]
        assert answer["statusCode"] == 200, answer
        assert json.loads(answer["body"]) == WIDGET
