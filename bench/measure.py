"""xwizard's benchmarks, each reported next to a peer measured in the same run.

Run with the sandbox's Python (it has moto and boto3):
    python bench/measure.py --xwizard target/release/xwizard [--runs 5]

- sandbox start: `xwizard sandbox up` until ready (venv made) vs plain `moto_server` until it
  answers;
- 60-resource stack at the fast pace: wall time and events, vs moto's own synchronous
  CreateStack of the same template;
- emulator RSS after start and after a Pattern 1 run, vs a plain moto server;
- a Pattern 1 run (`xwizard sandbox --yes --json`): wall time, CloudFormation calls per stack
  wait, vs the calls a fixed 2-second poll would have made over the same waits;
- the full screen in an 80x24 pty: time to its first full frame vs the line mode's time to its
  first prompt; CPU while it waits on a held stack and its peak RSS, vs the line mode waiting
  on the same held stack.
"""

from __future__ import annotations

import argparse
import codecs
import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import termios
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


def bench_pattern1(binary: str, pace: str = "fast") -> dict:
    """At the fast pace xwizard polls the sandbox every 0.1-0.8 s; at the realistic pace it
    polls as it does AWS (2-10 s, backing off), which is the fair match for a fixed 2 s poll."""
    with tempfile.TemporaryDirectory() as state:
        xwizard(binary, state, "sandbox", "up", "--pace", pace, check=True)
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
    p = f"pattern1_{pace}"
    return {
        f"{p}_wall_s": wall,
        f"{p}_stacks": len(stacks),
        f"{p}_cfn_calls_per_stack_wait": calls / len(stacks),
        f"{p}_stack_wait_s_total": waited,
        f"{p}_fixed_2s_poll_calls_per_stack_wait": fixed_poll_calls / len(stacks),
        f"sandbox_rss_mib_after_{p}": rss_after / 1024,
    }


class PtyScreen:
    """The binary in an 80x24 pty, its output kept as the screen it draws. Only what the full
    screen's backend writes is understood: cursor moves, styles (ignored), erases and text."""

    CSI = re.compile(r"\x1b\[([0-9;?]*)([@-~])")

    def __init__(self, argv: list[str], rows: int = 24, cols: int = 80):
        self.rows, self.cols = rows, cols
        self.grid = [[" "] * cols for _ in range(rows)]
        self.r = self.c = 0
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, env={**os.environ, "TERM": "xterm-256color"})
        os.close(slave)
        self.master = master

    def _put(self, text: str) -> None:
        for ch in text:
            if ch == "\r":
                self.c = 0
            elif ch == "\n":
                self.r = min(self.r + 1, self.rows - 1)
            elif ch >= " ":
                if self.c < self.cols:
                    self.grid[self.r][self.c] = ch
                self.c += 1

    def _feed(self, data: bytes) -> None:
        text = self.pending + self.decoder.decode(data)
        pos = 0
        for m in self.CSI.finditer(text):
            self._put(text[pos:m.start()].split("\x1b")[0])
            args, cmd = m.group(1), m.group(2)
            if cmd == "H":
                parts = [int(p) if p else 1 for p in args.split(";")] if args else [1, 1]
                self.r, self.c = parts[0] - 1, (parts[1] if len(parts) > 1 else 1) - 1
            elif cmd == "J" and args == "2":
                self.grid = [[" "] * self.cols for _ in range(self.rows)]
            pos = m.end()
        rest = text[pos:]
        cut = rest.rfind("\x1b")
        if cut >= 0:
            self._put(rest[:cut])
            self.pending = rest[cut:]
        else:
            self._put(rest)
            self.pending = ""

    def text(self) -> str:
        return "\n".join("".join(row) for row in self.grid)

    def wait_for(self, *wanted: str, timeout: float = 180) -> float:
        """Seconds from the start until the screen shows every one of `wanted`."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            if all(w in screen for w in wanted):
                return time.monotonic() - self.started
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit(f"never saw {wanted}; the screen:\n{screen}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    self._feed(os.read(self.master, 65536))
                except OSError:
                    raise SystemExit(f"the binary exited before {wanted}; the screen:\n{screen}")

    def keys(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait()
        os.close(self.master)


def cpu_and_peak(pid: int, seconds: float = 5.0) -> tuple[float, int]:
    """CPU use (percent of one core, all threads) over `seconds`, and VmHWM in KiB."""
    def ticks() -> int:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    t0, c0 = time.monotonic(), ticks()
    time.sleep(seconds)
    cpu = (ticks() - c0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - t0) * 100
    with open(f"/proc/{pid}/status") as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    return cpu, hwm


def bench_tui(binary: str, runs: int) -> dict:
    first_frame, first_prompt = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as state:
            # The home screen is drawn in full when its footer, the last row, is there.
            s = PtyScreen([binary, "--state-dir", state])
            first_frame.append(s.wait_for("No deployments yet", "q quit"))
            s.close()
            s = PtyScreen([binary, "--state-dir", state, "new", "--no-tui"])
            first_prompt.append(s.wait_for("Which pattern?"))
            s.close()
    results = {
        "tui_first_frame_ms": statistics.median(first_frame) * 1000,
        "line_first_prompt_ms": statistics.median(first_prompt) * 1000,
    }
    with tempfile.TemporaryDirectory() as state:
        xwizard(binary, state, "sandbox", "up", check=True)
        try:
            # The full screen, through every screen to the first change set, then waiting on
            # the consumer network stack, which the sandbox holds in progress.
            xwizard(binary, state, "sandbox", "fault", "hold", "xw-benchtui-consumer-vpc", check=True)
            s = PtyScreen([binary, "--state-dir", state, "sandbox"])
            s.wait_for("New deployment · pattern", "q quit")
            s.keys("\r")
            s.wait_for("sandbox-producer", "▸ producer")
            s.keys("\r")
            s.wait_for("account 111111111111", "▸ consumer")
            s.keys("\r")
            s.wait_for("account 222222222222", "c continues")
            s.keys("c")
            s.wait_for("Deployment name")
            s.keys("\t" + "\x7f" * 20 + "benchtui")
            s.wait_for("benchtui")
            s.keys("\r")
            s.wait_for("y apply")
            s.keys("y")
            s.wait_for("CREATE_IN_PROGRESS", "acting: consumer")
            time.sleep(1)
            cpu, hwm = cpu_and_peak(s.proc.pid)
            results["tui_cpu_pct_waiting_on_a_stack"] = cpu
            results["tui_peak_rss_mib"] = hwm / 1024
            s.close()
            # The line mode (JSON events) waiting on its own held stack.
            line = subprocess.Popen([binary, "--state-dir", state, "sandbox", "--yes", "--json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    start_new_session=True)
            for raw in line.stdout:
                event = json.loads(raw)
                if event["type"] == "run_started":
                    xwizard(binary, state, "sandbox", "fault", "hold",
                            f"xw-{event['deployment']}-consumer-vpc", check=True)
                if event["type"] == "stack_event":
                    break
            time.sleep(1)
            cpu, hwm = cpu_and_peak(line.pid)
            results["line_cpu_pct_waiting_on_a_stack"] = cpu
            results["line_peak_rss_mib"] = hwm / 1024
            os.killpg(line.pid, signal.SIGTERM)
            line.wait()
        finally:
            xwizard(binary, state, "sandbox", "down")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xwizard", default=os.path.join(ROOT, "target", "release", "xwizard"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--realistic", action="store_true",
                        help="also run Pattern 1 at the realistic pace (about three minutes)")
    args = parser.parse_args()
    os.environ.setdefault("XWIZARD_SANDBOX_PYTHON", sys.executable)
    results = {}
    results.update(bench_start(args.xwizard, args.runs))
    results.update(bench_sixty(args.xwizard, args.runs))
    results.update(bench_pattern1(args.xwizard))
    if args.realistic:
        results.update(bench_pattern1(args.xwizard, "realistic"))
    results.update(bench_tui(args.xwizard, args.runs))
    results["xwizard_binary_mib"] = os.path.getsize(args.xwizard) / 2**20
    for k, v in results.items():
        print(f"{k:<42} {v:.3f}" if isinstance(v, float) else f"{k:<42} {v}")


if __name__ == "__main__":
    main()
