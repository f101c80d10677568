"""The sandbox's weight, each figure next to a peer measured in the same run.

Run with the sandbox's Python (it has moto and boto3):
    python bench/sandbox_weight.py [--xwizard target/debug/xwizard] [--runs 5]

- start: from process start to the first answered request (GET /moto-api/), and to the
  first answered signed call (STS GetCallerIdentity with an account's key), for the emulator
  started with the command line `xwizard sandbox up` uses (src/sandbox/process.rs) vs a plain
  `moto_server` of the same moto; runs alternate between the two;
- RSS of the emulator's process right after that first answer, and two seconds later (any
  background work done by then; the function workers it started are counted apart), vs the
  plain moto server's; then the time of a first CloudFormation call (ListStacks) and the RSS
  after it, for both: moto's CloudFormation parser imports every service moto has;
- a function's first invoke (a Python function whose module imports boto3 at its top, as the
  patterns' functions do) and its next invokes, on a started emulator, and the first invoke of a
  function called right after another function's first invoke, vs a `python -c
  "import boto3"` started from scratch (what any cold interpreter pays for that import);
- with `--xwizard`: a Pattern 1 deployment (`xwizard new --preset profiles/sandbox.toml --yes
  --json`), the latencies its test step saw, the emulator's RSS and its function workers' RSS
  after it, then keyed GETs through the data plane to the
  consumer API (a new TLS connection each, as curl makes), vs a GET of the emulator's own
  /moto-api/ over plain HTTP in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_EMULATOR_DIR = os.path.join(ROOT, "assets", "sandbox")
_emulator_dir = [DEFAULT_EMULATOR_DIR]
CONSUMER_KEYS = ("AKIAXWIZARDCONSUMER1", "xwizard-sandbox-consumer-secret-key-0002")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_of(pid: int) -> list[int]:
    """Every process whose parent is `pid` (started by any of its threads)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The fields after the command name, which is in parentheses and may hold spaces.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry))
    return kids


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_pss_kib(pid: int) -> int:
    return sum(pss_kib(k) + children_pss_kib(k) for k in children_of(pid))


def children_rss_kib(pid: int) -> int:
    return sum(rss_kib(k) + children_rss_kib(k) for k in children_of(pid))


def children_count(pid: int) -> int:
    return len(children_of(pid))


def wait_answer(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.005)
    raise SystemExit(f"{url} did not answer")


def signed_call(endpoint: str, keys: tuple[str, str]) -> None:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id=keys[0], aws_secret_access_key=keys[1])
    sts.get_caller_identity()


def start_emulator(port: int, data_dir: str) -> subprocess.Popen:
    # As src/sandbox/process.rs launches it.
    return subprocess.Popen(
        [sys.executable, os.path.join(_emulator_dir[0], "emulator.py"), "--ready-file", os.path.join(data_dir, "ready.json"),
         "--data-dir", data_dir, "--pace", "fast", "--port", str(port),
         "--data-plane-port", "0", "--exit-with-parent"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_moto(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def one_start(kind: str) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        t = time.monotonic()
        proc = start_emulator(port, data_dir) if kind == "sandbox" else start_moto(port)
        try:
            endpoint = f"http://127.0.0.1:{port}"
            wait_answer(f"{endpoint}/moto-api/", t + 120)
            first = time.monotonic() - t
            rss = rss_kib(proc.pid)
            signed_call(endpoint, CONSUMER_KEYS)
            keyed = time.monotonic() - t
            time.sleep(2)
            rss_later = rss_kib(proc.pid)
            workers = children_rss_kib(proc.pid)
            # The first CloudFormation call: moto's parser imports every service of moto.
            cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=endpoint,
                               aws_access_key_id=CONSUMER_KEYS[0],
                               aws_secret_access_key=CONSUMER_KEYS[1])
            t = time.monotonic()
            cfn.list_stacks()
            first_cfn = time.monotonic() - t
            rss_cfn = rss_kib(proc.pid)
        finally:
            stop(proc)
    return {"first_answer_s": first, "first_signed_call_s": keyed, "rss_mib": rss / 1024,
            "rss_mib_2s": rss_later / 1024, "workers_rss_mib_2s": workers / 1024,
            "first_cloudformation_call_s": first_cfn, "rss_mib_after_cloudformation": rss_cfn / 1024}


def bench_start(runs: int) -> dict:
    got: dict[str, list[dict]] = {"sandbox": [], "moto": []}
    for _ in range(runs):
        for kind in ("sandbox", "moto"):
            got[kind].append(one_start(kind))
    out = {}
    for kind, rows in got.items():
        for key in rows[0]:
            out[f"{kind}_{key}"] = round(statistics.median(r[key] for r in rows), 3)
    out["start_ratio"] = round(out["sandbox_first_answer_s"] / out["moto_first_answer_s"], 2)
    out["rss_ratio"] = round(out["sandbox_rss_mib"] / out["moto_rss_mib"], 2)
    out["rss_ratio_2s"] = round(out["sandbox_rss_mib_2s"] / out["moto_rss_mib_2s"], 2)
    return out


FUNCTION_SOURCE = """\
import os

import boto3

sts = boto3.client("sts")
INIT_PID = os.getpid()


def handler(event, context):
    return {"pid": INIT_PID, "account": sts.get_caller_identity()["Account"]}
"""


def function_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", FUNCTION_SOURCE)
    return buf.getvalue()


def bench_invoke(runs: int) -> dict:
    port = free_port()
    cold, warm, burst = [], [], []
    with tempfile.TemporaryDirectory() as data_dir:
        proc = start_emulator(port, data_dir)
        try:
            endpoint = f"http://127.0.0.1:{port}"
            wait_answer(f"{endpoint}/moto-api/", time.monotonic() + 120)
            kw = dict(region_name="us-east-1", endpoint_url=endpoint,
                      aws_access_key_id=CONSUMER_KEYS[0], aws_secret_access_key=CONSUMER_KEYS[1])
            iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
            role = iam.create_role(RoleName="bench-fn", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
            for i in range(runs):
                name = f"bench-fn-{i}"
                lam.create_function(FunctionName=name, Runtime="python3.13", Role=role,
                                    Handler="index.handler", Code={"ZipFile": function_zip()},
                                    Timeout=10)
                # As a deployment would: the function exists a moment before it is called.
                time.sleep(1)
                t = time.monotonic()
                out = lam.invoke(FunctionName=name)
                cold.append(time.monotonic() - t)
                assert "FunctionError" not in out, out["Payload"].read()
                for _ in range(3):
                    t = time.monotonic()
                    out = lam.invoke(FunctionName=name)
                    warm.append(time.monotonic() - t)
                    assert "FunctionError" not in out, out["Payload"].read()
            # Two new functions invoked back to back: the second finds the spare interpreter
            # taken by the first and not yet replaced, so it starts one of its own.
            for i in range(runs):
                names = [f"bench-burst-{i}-{j}" for j in range(2)]
                for name in names:
                    lam.create_function(FunctionName=name, Runtime="python3.13", Role=role,
                                        Handler="index.handler", Code={"ZipFile": function_zip()},
                                        Timeout=10)
                time.sleep(1)
                for name in names:
                    t = time.monotonic()
                    out = lam.invoke(FunctionName=name)
                    assert "FunctionError" not in out, out["Payload"].read()
                burst.append(time.monotonic() - t)
        finally:
            stop(proc)
    scratch = []
    for _ in range(runs):
        t = time.monotonic()
        subprocess.run([sys.executable, "-c", "import boto3; boto3.client('sts', region_name='us-east-1')"],
                       check=True)
        scratch.append(time.monotonic() - t)
    return {
        "function_first_invoke_s": round(statistics.median(cold), 3),
        "function_warm_invoke_s": round(statistics.median(warm), 3),
        "function_first_invoke_right_after_another_s": round(statistics.median(burst), 3),
        "python_import_boto3_from_scratch_s": round(statistics.median(scratch), 3),
    }


def keyed_get(plane_port: int, ca_file: str, host: str, path: str, key: str | None) -> tuple[int, float]:
    ctx = ssl.create_default_context(cafile=ca_file)
    t = time.monotonic()
    raw = socket.create_connection(("127.0.0.1", plane_port), timeout=30)
    conn = http.client.HTTPSConnection(host, plane_port, context=ctx, timeout=30)
    conn.sock = ctx.wrap_socket(raw, server_hostname=host)
    headers = {"Host": host}
    if key is not None:
        headers["Authorization"] = key
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, time.monotonic() - t


def swap_emulator(ready: dict, ready_file: str) -> dict:
    """The other copy's emulator in place of the one `sandbox up` started: same ports, data
    dir (its CA) and ready file, so xwizard and `sandbox down` take it for theirs."""
    os.kill(ready["pid"], 15)
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{ready['pid']}") and time.monotonic() < deadline:
        time.sleep(0.05)
    os.unlink(ready_file)
    subprocess.Popen(
        [sys.executable, os.path.join(_emulator_dir[0], "emulator.py"), "--ready-file", ready_file,
         "--data-dir", os.path.dirname(ready_file), "--pace", ready["pace"],
         "--port", ready["endpoint_url"].rsplit(":", 1)[1],
         "--data-plane-port", str(ready["data_plane"]["port"])],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    while not os.path.exists(ready_file):
        if time.monotonic() > deadline:
            raise SystemExit("the other emulator did not start")
        time.sleep(0.05)
    return json.load(open(ready_file))


def bench_data_plane(binary: str, runs: int) -> dict:
    state = tempfile.mkdtemp(prefix="xwizard-bench-")
    env = dict(os.environ, XWIZARD_SANDBOX_PYTHON=sys.executable)
    run = lambda *a, **kw: subprocess.run([binary, "--state-dir", state, *a], env=env,  # noqa: E731
                                          capture_output=True, text=True, **kw)
    try:
        run("sandbox", "up", check=True)
        ready_file = os.path.join(state, "sandbox", "ready.json")
        ready = json.load(open(ready_file))
        if _emulator_dir[0] != DEFAULT_EMULATOR_DIR:
            ready = swap_emulator(ready, ready_file)
        sandbox_env = dict(env)
        for line in run("sandbox", "env", check=True).stdout.splitlines():
            if line.startswith("export "):
                k, _, v = line[7:].partition("=")
                sandbox_env[k] = v
        deploy = subprocess.run([binary, "--state-dir", state, "new", "--preset",
                                 os.path.join(ROOT, "profiles", "sandbox.toml"), "--yes", "--json"],
                                env=sandbox_env, capture_output=True, text=True)
        if deploy.returncode:
            raise SystemExit(deploy.stderr[-2000:])
        events = [json.loads(line) for line in deploy.stdout.splitlines()]
        checks = {e["name"]: e["latency_ms"] for e in events if e["type"] == "check"}
        outputs: dict[str, str] = {}
        for e in events:
            if e["type"] == "outputs":
                outputs.update(e["outputs"])
        kw = dict(region_name="us-east-1", endpoint_url=ready["endpoint_url"],
                  aws_access_key_id=CONSUMER_KEYS[0], aws_secret_access_key=CONSUMER_KEYS[1])
        key = boto3.client("secretsmanager", **kw).get_secret_value(
            SecretId=outputs["ApiKeySecretArn"])["SecretString"]
        rss_after = rss_kib(ready["pid"])
        workers_after = children_rss_kib(ready["pid"])
        workers_count = children_count(ready["pid"])
        workers_pss = children_pss_kib(ready["pid"])
        url = urllib.parse.urlsplit(outputs["ConsumerApiEndpoint"])
        plane = ready["data_plane"]
        keyed, unkeyed, peer = [], [], []
        for _ in range(max(runs, 10)):
            status, s = keyed_get(plane["port"], plane["ca_file"], url.hostname, url.path, key)
            assert status == 200, status
            keyed.append(s)
            status, s = keyed_get(plane["port"], plane["ca_file"], url.hostname, url.path, None)
            assert status == 401, status
            unkeyed.append(s)
            t = time.monotonic()
            urllib.request.urlopen(f"{ready['endpoint_url']}/moto-api/").read()
            peer.append(time.monotonic() - t)
        return {
            "deploy_test_checks_ms": checks,
            "sandbox_rss_mib_after_pattern1": round(rss_after / 1024, 1),
            "function_workers_rss_mib_after_pattern1": round(workers_after / 1024, 1),
            "function_workers_after_pattern1": workers_count,
            "function_workers_pss_mib_after_pattern1": round(workers_pss / 1024, 1),
            "warm_keyed_get_s": round(statistics.median(keyed), 3),
            "warm_keyed_get_max_s": round(max(keyed), 3),
            "warm_unkeyed_get_s": round(statistics.median(unkeyed), 3),
            "emulator_moto_api_get_s": round(statistics.median(peer), 3),
        }
    finally:
        run("sandbox", "down")
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xwizard", help="the binary, for the Pattern 1 data-plane figures")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["start", "invoke", "data-plane"])
    parser.add_argument("--emulator-dir", help="another copy of assets/sandbox, to compare "
                        "(e.g. `git archive REV assets/sandbox`); the data-plane figures run it in place of the "
                        "emulator `sandbox up` started")
    args = parser.parse_args()
    if args.emulator_dir:
        _emulator_dir[0] = os.path.abspath(args.emulator_dir)
    report: dict = {}
    with open("/proc/loadavg") as f:
        report["loadavg_at_start"] = f.read().split()[0]
    if args.only in (None, "start"):
        report.update(bench_start(args.runs))
        print(json.dumps(report, indent=2), flush=True, file=sys.stderr)
    if args.only in (None, "invoke"):
        report.update(bench_invoke(args.runs))
    if args.xwizard and args.only in (None, "data-plane"):
        report.update(bench_data_plane(args.xwizard, args.runs))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    import urllib.parse  # noqa: F401 - used by bench_data_plane

    main()
