"""xwizard's benchmarks, each reported next to a peer measured in the same run.

Run with the sandbox's Python (it has moto and boto3):
    python bench/measure.py --xwizard target/release/xwizard [--runs 5]

- sandbox start: `xwizard sandbox up` until ready (venv made) vs plain `moto_server` until it
  answers;
- 60-resource stack at the fast pace: wall time and events, vs moto's own synchronous
  CreateStack of the same template;
- emulator RSS after start and after a Pattern 1 run, vs a plain moto server;
- a Pattern 1 run (`xwizard sandbox --yes --json`): wall time, CloudFormation calls per stack
  wait, vs the calls a fixed 2-second poll would have made over the same waits.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.01)
    raise SystemExit(f"{url} did not answer")


def xwizard(binary: str, state: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "--state-dir", state, *args], capture_output=True, text=True, **kw)


def bench_start(binary: str, runs: int) -> dict:
    ours, peer, ours_rss, peer_rss = [], [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as state:
            t = time.monotonic()
            out = xwizard(binary, state, "sandbox", "up")
            ours.append(time.monotonic() - t)
            if out.returncode:
                raise SystemExit(out.stderr)
            ready = json.load(open(os.path.join(state, "sandbox", "ready.json")))
            ours_rss.append(rss_kib(ready["pid"]))
            xwizard(binary, state, "sandbox", "down")
        port = free_port()
        t = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(f"http://127.0.0.1:{port}/moto-api/", time.monotonic() + 60)
        peer.append(time.monotonic() - t)
        peer_rss.append(rss_kib(proc.pid))
        proc.terminate()
        proc.wait()
    return {
        "sandbox_start_s": statistics.median(ours),
        "moto_server_start_s": statistics.median(peer),
        "start_ratio": statistics.median(ours) / statistics.median(peer),
        "sandbox_rss_mib_at_start": statistics.median(ours_rss) / 1024,
        "moto_server_rss_mib_at_start": statistics.median(peer_rss) / 1024,
    }


def sixty_resource_template() -> str:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Resources:",
             "  Vpc:", "    Type: AWS::EC2::VPC", "    Properties:", "      CidrBlock: 10.50.0.0/16"]
    for i in range(20):
        lines += [f"  Subnet{i}:", "    Type: AWS::EC2::Subnet", "    Properties:",
                  "      VpcId: !Ref Vpc", f"      CidrBlock: 10.50.{i}.0/24"]
        lines += [f"  Sg{i}:", "    Type: AWS::EC2::SecurityGroup", "    Properties:",
                  f"      GroupDescription: sg {i}", "      VpcId: !Ref Vpc"]
    for i in range(19):
        lines += [f"  Logs{i}:", "    Type: AWS::Logs::LogGroup", "    Properties:",
                  f"      LogGroupName: !Sub '${{AWS::StackName}}-{i}'"]
    return "\n".join(lines) + "\n"


def create_and_wait(endpoint: str, keys: tuple[str, str], name: str, body: str) -> tuple[float, int]:
    cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id=keys[0], aws_secret_access_key=keys[1])
    t = time.monotonic()
    cfn.create_stack(StackName=name, TemplateBody=body)
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(0.01)
    elapsed = time.monotonic() - t
    assert status == "CREATE_COMPLETE", status
    events = cfn.get_paginator("describe_stack_events").paginate(StackName=name)
    return elapsed, sum(len(p["StackEvents"]) for p in events)


def bench_sixty(binary: str, runs: int) -> dict:
    body = sixty_resource_template()
    ours, peer, events_ours, events_peer = [], [], 0, 0
    with tempfile.TemporaryDirectory() as state:
        xwizard(binary, state, "sandbox", "up", check=True)
        ready = json.load(open(os.path.join(state, "sandbox", "ready.json")))
        acct = ready["accounts"]["consumer"]
        keys = (acct["aws_access_key_id"], acct["aws_secret_access_key"])
        for i in range(runs):
            elapsed, events_ours = create_and_wait(ready["endpoint_url"], keys, f"sixty-{i}", body)
            ours.append(elapsed)
        xwizard(binary, state, "sandbox", "down")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/moto-api/", time.monotonic() + 60)
        for i in range(runs):
            elapsed, events_peer = create_and_wait(f"http://127.0.0.1:{port}", ("AKIAPEER", "x"), f"sixty-{i}", body)
            peer.append(elapsed)
    finally:
        proc.terminate()
        proc.wait()
    return {
        "sixty_resources_sandbox_s": statistics.median(ours),
        "sixty_resources_sandbox_events": events_ours,
        "sixty_resources_moto_sync_s": statistics.median(peer),
        "sixty_resources_moto_sync_events": events_peer,
        "sixty_ratio": statistics.median(ours) / statistics.median(peer),
    }


def bench_pattern1(binary: str) -> dict:
    with tempfile.TemporaryDirectory() as state:
        up = xwizard(binary, state, "sandbox", "up", check=True)
        ready = json.load(open(os.path.join(state, "sandbox", "ready.json")))
        t = time.monotonic()
        run = xwizard(binary, state, "sandbox", "--yes", "--json")
        wall = time.monotonic() - t
        rss_after = rss_kib(ready["pid"])
        xwizard(binary, state, "sandbox", "down")
    if run.returncode:
        raise SystemExit(run.stderr[-2000:])
    events = [json.loads(l) for l in run.stdout.splitlines()]
    stacks = [e for e in events if e["type"] == "step_done" and e["api_calls"] > 0]
    calls = sum(e["api_calls"] for e in stacks)
    waited = sum(e["seconds"] for e in stacks)
    # A fixed 2 s poll (DescribeStackEvents + DescribeStacks each time) over the same waits.
    fixed_poll_calls = sum(2 * max(1, round(e["seconds"] / 2)) for e in stacks)
    return {
        "pattern1_wall_s": wall,
        "pattern1_stacks": len(stacks),
        "pattern1_cfn_calls_per_stack_wait": calls / len(stacks),
        "pattern1_stack_wait_s_total": waited,
        "fixed_2s_poll_calls_per_stack_wait": fixed_poll_calls / len(stacks),
        "sandbox_rss_mib_after_pattern1": rss_after / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xwizard", default=os.path.join(ROOT, "target", "release", "xwizard"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("XWIZARD_SANDBOX_PYTHON", sys.executable)
    results = {}
    results.update(bench_start(args.xwizard, args.runs))
    results.update(bench_sixty(args.xwizard, args.runs))
    results.update(bench_pattern1(args.xwizard))
    results["xwizard_binary_mib"] = os.path.getsize(args.xwizard) / 2**20
    for k, v in results.items():
        print(f"{k:<42} {v:.3f}" if isinstance(v, float) else f"{k:<42} {v}")


if __name__ == "__main__":
    main()
