"""Warm execution environments for the functions lambda_runtime runs.

AWS runs a function's code in an execution environment that it keeps after an invoke and
reuses for the function's next invokes: the module's top level (its `init`) runs once per
environment, at its first invoke (a cold start), and later invokes only call the handler. A
fresh interpreter per invoke made every invoke pay a process start and an import of boto3
(about half a second, several on a busy machine), on the data plane's path too (authorizers).

So each environment is a worker interpreter that lives on between invokes:
  * an environment belongs to one function as it is configured (code, handler, role,
    variables, timeout, memory, VPC); an update or a new function with the same name gets new
    environments, and the old ones are ended. Two invokes of a function at once use two;
  * its first invoke extracts the code to its own task directory, sets the function's
    environment (the execution role's credentials are issued then, as AWS issues them for the
    environment) and imports the handler's module (REPORT then says `Init Duration`); later
    invokes call the handler with the module's state kept, as on AWS;
  * a timeout or an exit of the interpreter ends the environment, as AWS resets it; so does an
    error importing the module (the next invoke tries init again). An exception from the
    handler does not;
  * idle environments end after IDLE_SECONDS (an unused spare too), any after MAX_AGE_SECONDS
    (before the role's credentials expire), and at most MAX_ENVIRONMENTS live at once (the least recently used
    idle one ends first); a sandbox reset ends them all.

To keep a cold start short, one spare interpreter is started in the background (once a
Python function is created, and again after an invoke that took it) with boto3 already
imported, as it is in the Lambda runtime's image; the first invoke of a function takes it. The
spare has no function's code, variables or credentials until it is taken.

Each interpreter reads its orders on one pipe and answers on another; stdin is empty, and what
the code prints during an invoke (fds 1 and 2) goes to that invoke's log. The source-endpoint
marker (see lambda_runtime) is signed per invoke by the emulator, never by the worker.
"""

from __future__ import annotations

import io
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from typing import Any

IDLE_SECONDS = 600.0
MAX_AGE_SECONDS = 2700.0
MAX_ENVIRONMENTS = 16
SPARES = 1
INIT_DEADLINE = 60.0  # a taken spare still importing boto3 on a loaded machine
_REAP_EVERY = 15.0


# ---------------------------------------------------------------- emulator side


class _Worker:
    def __init__(self) -> None:
        self.base = tempfile.mkdtemp(prefix="xwizard-lambda-")
        self.task_dir = os.path.join(self.base, "task")
        ctl_r, self._ctl_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8",
               "TZ": ":UTC", "PYTHONDONTWRITEBYTECODE": "1", "HOME": self.base}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--worker", str(ctl_r), str(reply_w)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(ctl_r, reply_w), cwd=self.base, env=env, start_new_session=True,
            )
        finally:
            os.close(ctl_r)
            os.close(reply_w)
        self._buffer = b""
        self.key: tuple[Any, ...] | None = None
        self.arn = ""
        self.born = time.monotonic()
        self.last_used = self.born
        self.initialized = False
        self._end_lock = threading.Lock()
        self._code: int | None = None

    def send(self, message: dict[str, Any]) -> bool:
        data = json.dumps(message).encode() + b"\n"
        try:
            while data:
                data = data[os.write(self._ctl_w, data):]
            return True
        except OSError:
            return False

    def receive(self, deadline: float) -> dict[str, Any] | None | bool:
        """The next answer; None once `deadline` passed; False if the interpreter is gone."""
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._reply_r], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(self._reply_r, 1 << 16)
            if not chunk:
                return False
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def end(self) -> int:
        """Ends the interpreter (once; later calls answer its exit status)."""
        with self._end_lock:
            if self._code is None:
                self._code = self._end()
            return self._code

    def _end(self) -> int:
        for fd in (self._ctl_w, self._reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = -9
        shutil.rmtree(self.base, ignore_errors=True)
        return code


_lock = threading.Lock()
_spare_ready = threading.Condition(_lock)
_idle: dict[tuple[Any, ...], list[_Worker]] = {}
_busy: set[_Worker] = set()
_spares: list[_Worker] = []
_current: dict[str, tuple[Any, ...]] = {}  # function ARN and version -> its configuration's key
_state = {"running": False, "spawning": 0}


def install(_ctx: Any) -> None:
    import control_api

    with _lock:
        if _state["running"]:
            return
        _state["running"] = True
    control_api.on_reset(forget_all)
    threading.Thread(target=_reaper, name="function-workers", daemon=True).start()
    _spare_on_create_function()


def _spare_on_create_function() -> None:
    """A spare is started once a Python function exists: its first invoke usually follows."""
    from moto.awslambda.models import LambdaBackend

    if getattr(LambdaBackend.create_function, "_spare", False):
        return
    original = LambdaBackend.create_function

    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        fn = original(self, spec)
        if str(getattr(fn, "run_time", "") or "").startswith("python"):
            _refill()
        return fn

    create_function._spare = True  # type: ignore[attr-defined]
    LambdaBackend.create_function = create_function


def stop_all() -> None:
    """The emulator stops: every interpreter ends, and no spare is started any more."""
    with _lock:
        _state["running"] = False
        workers = _drain()
    for worker in workers:
        worker.end()


def forget_all() -> None:
    """A reset: the functions are gone, so are their environments (the spare stays)."""
    with _lock:
        workers = [w for ws in _idle.values() for w in ws]
        _idle.clear()
        _current.clear()
        for worker in _busy:
            worker.key = None  # ended when its invoke returns
    for worker in workers:
        worker.end()


def _drain() -> list[_Worker]:
    workers = [w for ws in _idle.values() for w in ws] + list(_busy) + _spares
    _idle.clear()
    _busy.clear()
    _spares.clear()
    return workers


def _refill() -> None:
    with _lock:
        wanted = SPARES - len(_spares) - _state["spawning"]
        if not _state["running"] or wanted <= 0:
            return
        _state["spawning"] += wanted
    for _ in range(wanted):
        threading.Thread(target=_spawn_spare, name="function-spare", daemon=True).start()


def _spawn_spare() -> None:
    try:
        worker = _Worker()
    except OSError:
        with _lock:
            _state["spawning"] -= 1
            _spare_ready.notify_all()
        return
    with _lock:
        _state["spawning"] -= 1
        _spare_ready.notify_all()
        if _state["running"]:
            _spares.append(worker)
            return
    worker.end()


def _reaper() -> None:
    while True:
        time.sleep(_REAP_EVERY)
        with _lock:
            if not _state["running"]:
                return
            now = time.monotonic()
            doomed = _expired(now)
            # An unused spare goes too; the next function created or first invoked starts one.
            doomed += [w for w in _spares if now - w.born > IDLE_SECONDS]
            _spares[:] = [w for w in _spares if w not in doomed]
        for worker in doomed:
            worker.end()


def _expired(now: float) -> list[_Worker]:
    """Idle environments past their time, or beyond MAX_ENVIRONMENTS; called under _lock."""
    doomed = []
    for key, workers in list(_idle.items()):
        keep = []
        for w in workers:
            stale = _current.get(w.arn) != key
            old = now - w.last_used > IDLE_SECONDS or now - w.born > MAX_AGE_SECONDS
            (doomed if stale or old or w.proc.poll() is not None else keep).append(w)
        if keep:
            _idle[key] = keep
        else:
            del _idle[key]
    idle = sorted((w for ws in _idle.values() for w in ws), key=lambda w: w.last_used)
    excess = len(idle) + len(_busy) - MAX_ENVIRONMENTS
    for w in idle[:max(0, excess)]:
        _idle[w.key].remove(w)  # type: ignore[index]
        if not _idle[w.key]:  # type: ignore[index]
            del _idle[w.key]  # type: ignore[index]
        doomed.append(w)
    return doomed


def configuration_key(fn: Any) -> tuple[Any, ...]:
    """What makes an environment belong to this function as it is now."""
    return (
        id(fn), fn.function_arn, str(fn.version), fn.code_sha_256, fn.handler, fn.role,
        fn.run_time, str(fn.timeout), str(fn.memory_size), getattr(fn, "last_modified", ""),
        json.dumps(fn.environment_vars or {}, sort_keys=True, default=str),
        json.dumps(getattr(fn, "_vpc_config", None) or {}, sort_keys=True, default=str),
    )


def _identity(fn: Any) -> str:
    return f"{fn.function_arn}#{fn.version}"


def _take(fn: Any, key: tuple[Any, ...]) -> tuple[_Worker, list[_Worker]]:
    with _lock:
        _current[_identity(fn)] = key
        doomed = _expired(time.monotonic())
        idle = _idle.get(key)
        while idle:
            worker = idle.pop()
            if not idle:
                del _idle[key]
            if worker.proc.poll() is None:
                _busy.add(worker)
                return worker, doomed
            doomed.append(worker)
            idle = _idle.get(key)
        # A spare on its way is further along than an interpreter started now.
        deadline = time.monotonic() + INIT_DEADLINE
        while not _spares and _state["spawning"] > 0 and time.monotonic() < deadline:
            _spare_ready.wait(max(0.0, min(1.0, deadline - time.monotonic())))
        worker = _spares.pop(0) if _spares else None
        if worker is not None and worker.proc.poll() is not None:
            doomed.append(worker)
            worker = None
    if worker is None:
        worker = _Worker()
    worker.key, worker.arn = key, _identity(fn)
    with _lock:
        _busy.add(worker)
    return worker, doomed


def _give_back(worker: _Worker, keep: bool) -> None:
    with _lock:
        _busy.discard(worker)
        if keep and _state["running"] and worker.key is not None \
                and _current.get(worker.arn) == worker.key:
            worker.last_used = time.monotonic()
            _idle.setdefault(worker.key, []).append(worker)
            return
    worker.end()


def invoke(fn: Any, event: Any, request_id: str) -> Any:
    """Run `fn` with `event` in a warm environment of its own, starting one if none is idle."""
    import lambda_runtime as lr

    worker, doomed = _take(fn, configuration_key(fn))
    for old in doomed:
        old.end()
    keep = False
    try:
        result, keep = _invoke_in(lr, worker, fn, event, request_id)
        return result
    finally:
        _give_back(worker, keep)
        # After the invoke, so that a new spare's imports do not slow a cold start down.
        _refill()


def _invoke_in(lr: Any, worker: _Worker, fn: Any, event: Any, request_id: str) -> tuple[Any, bool]:
    timeout = float(fn.timeout or 3)
    started = time.monotonic()
    if not worker.initialized:
        os.makedirs(worker.task_dir, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            archive.extractall(worker.task_dir)
        sent = worker.send({"type": "init", "task_dir": worker.task_dir,
                            "env": lr._environment(fn, worker.task_dir)})
        answer = worker.receive(time.monotonic() + INIT_DEADLINE) if sent else False
        if not isinstance(answer, dict):
            return _ended(lr, worker, fn, request_id, "", started), False
        worker.initialized = True
    output_file = os.path.join(worker.base, f"out-{uuid.uuid4().hex}")
    job = {"type": "invoke", "event": event, "handler": fn.handler, "output_file": output_file,
           "context": lr._context_fields(fn, request_id), "network": lr._network(fn)}
    sent = worker.send(job)
    answer = worker.receive(time.monotonic() + timeout) if sent else False
    elapsed_ms = (time.monotonic() - started) * 1000
    keep = isinstance(answer, dict) and not answer.get("retire")
    if answer is None:
        worker.end()  # a timed-out environment is reset; its output is complete now
    output = _read_output(output_file)
    if answer is None:
        result = lr._error(request_id, "Sandbox.Timedout",
                           f"RequestId: {request_id} Error: Task timed out after "
                           f"{timeout:.2f} seconds")
    elif answer is False:
        return _ended(lr, worker, fn, request_id, output, started), False
    elif "error" in answer:
        result = lr.Invocation(json.dumps(answer["error"]).encode(), "Unhandled")
    else:
        result = lr.Invocation(answer["payload"].encode())
    result.logs = _logs(lr, fn, request_id, output, elapsed_ms,
                        answer.get("init_ms") if isinstance(answer, dict) else None)
    lr._save_logs(fn, result.logs)
    return result, keep


def _ended(lr: Any, worker: _Worker, fn: Any, request_id: str, output: str, started: float) -> Any:
    code = worker.end()
    result = lr._error(request_id, "Runtime.ExitError",
                       f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}")
    result.logs = _logs(lr, fn, request_id, output, (time.monotonic() - started) * 1000, None)
    lr._save_logs(fn, result.logs)
    return result


def _read_output(path: str) -> str:
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace")
        os.unlink(path)
        return text
    except OSError:
        return ""


def _logs(lr: Any, fn: Any, request_id: str, output: str, elapsed_ms: float,
          init_ms: float | None) -> str:
    text = lr._log_text(fn, request_id, output, elapsed_ms)
    if init_ms is not None:
        # AWS's REPORT line of a cold start: the init's own time.
        text = text[:-1] + f"\tInit Duration: {init_ms:.2f} ms\n"
    return text


# ---------------------------------------------------------------- worker side
# Runs in the worker interpreter: stdlib and lambda_runtime's runner half only.

_network: dict[str, Any] = {}


def _watch_emulator() -> None:
    """Ends this interpreter once the emulator is gone, even in the middle of an invoke."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="emulator-watch", daemon=True).start()


def _worker_main(ctl_fd: int, reply_fd: int) -> None:
    import importlib

    _watch_emulator()
    here = sys.path[0]
    import lambda_runtime as lr

    try:
        import boto3  # noqa: F401 - in the runtime's image; imported before any function
    except ImportError:
        pass
    # The sandbox's own modules must not shadow the function's (it may name one the same).
    for name in ("lambda_runtime",):
        sys.modules.pop(name, None)
    if here in sys.path:
        sys.path.remove(here)

    def reply(doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode() + b"\n"
        while data:
            data = data[os.write(reply_fd, data):]

    hooked = False
    module_name = ""
    for line in os.fdopen(ctl_fd, "rb"):
        order = json.loads(line)
        if order["type"] == "init":
            os.environ.clear()
            os.environ.update(order["env"])
            time.tzset()
            os.chdir(order["task_dir"])
            sys.path.insert(0, order["task_dir"])
            for extra in reversed([p for p in order["env"].get("PYTHONPATH", "").split(":") if p]):
                sys.path.insert(1, extra)
            reply({"ok": True})
            continue
        network = order.pop("network")
        _network.clear()
        _network.update(network)
        if not hooked:
            lr.install_network_hooks(network.get("data_plane"),
                                     lambda: _network.get("endpoints") or {})
            hooked = True
        sys.stdout.flush()
        sys.stderr.flush()
        out = os.open(order.pop("output_file"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        doc: dict[str, Any] = {}
        if not module_name:
            name = lr._handler_module(order["handler"])[0]
            began = time.monotonic()
            try:
                importlib.import_module(name)
            except Exception as err:  # noqa: BLE001 - reported as Lambda reports it
                doc = {"error": lr._runner_error("Runtime.ImportModuleError",
                                                 f"Unable to import module '{name}': {err}"),
                       "retire": True}
            else:
                module_name = name
            doc["init_ms"] = (time.monotonic() - began) * 1000
        if "error" not in doc:
            doc.update(lr._run_handler(order))
        sys.stdout.flush()
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        reply(doc)


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    _worker_main(int(sys.argv[2]), int(sys.argv[3]))
