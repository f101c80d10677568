"""One emulator per test session, started exactly as `xwizard sandbox up` starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(os.path.dirname(HERE), "emulator.py")
PRODUCER = "111111111111"
CONSUMER = "222222222222"
# Deadlines are for runs that went wrong: a correct run never waits for them, so they are
# generous enough for a loaded one-core machine.
DEADLINE = 300.0


@dataclass
class Sandbox:
    info: dict[str, Any]
    region: str = "us-east-1"

    @property
    def endpoint_url(self) -> str:
        return self.info["endpoint_url"]

    def client(self, service: str, role: str) -> Any:
        acct = self.info["accounts"][role]
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=acct["aws_access_key_id"],
            aws_secret_access_key=acct["aws_secret_access_key"],
            config=botocore.config.Config(connect_timeout=DEADLINE, read_timeout=DEADLINE),
        )

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.endpoint_url}/_sandbox/{path}", data=data, method="GET" if data is None else "POST"
        )
        with urllib.request.urlopen(req, timeout=DEADLINE) as resp:
            return json.loads(resp.read())


def wait_until(predicate, timeout: float = DEADLINE, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def sandbox():
    with tempfile.TemporaryDirectory(prefix="xwizard-sandbox-test-") as tmp:
        ready = os.path.join(tmp, "ready.json")
        log = open(os.path.join(tmp, "emulator.log"), "w")
        proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--ready-file", ready, "--data-dir", tmp, "--pace", "fast"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            def started():
                if proc.poll() is not None:
                    raise AssertionError(f"emulator exited with {proc.returncode}: "
                                         + open(log.name).read()[-4000:])
                return os.path.exists(ready)

            wait_until(started, what="the emulator's ready file")
            with open(ready) as f:
                yield Sandbox(json.load(f))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


@pytest.fixture
def fresh(sandbox):
    """The session's emulator, reset to empty accounts before the test."""
    sandbox.control("reset", {})
    return sandbox
