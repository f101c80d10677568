"""The xwizard sandbox emulator: moto's server plus the AWS behaviours xwizard needs.

Run as `python emulator.py --ready-file FILE [--port N] [--pace fast|realistic]`.
moto is started through its own WSGI application (the same one `moto.server.main` serves);
each module beside this one adds one AWS behaviour that moto lacks and exposes `install(ctx)`.
Those that mend moto's services are installed before the first request that needs them, not at
start (first_use.py), so the emulator starts about as fast and as small as moto's own server.
When both servers listen, a JSON document describing them is written atomically to
the ready file, which is how `xwizard sandbox up` and the tests learn the ports.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# Modules beside this file are imported by plain name.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

import accounts  # noqa: E402
import first_use  # noqa: E402
import sandbox_domain  # noqa: E402

PACES = {
    # Seconds a resource stays IN_PROGRESS before it completes: a floor for every
    # resource and a longer time for the ones AWS is known to be slow with.
    # `stale_reads`: seconds DescribeStacks and DescribeStackEvents lag a change (stale_reads.py).
    # `ssm_online`: from an instance's launch (or its first look with role and network in place)
    # to its managed node Online; `ssm_visible`: from SendCommand to the invocation being visible
    # and delivered (ssm_run_command.py).
    # `ca_creating`: a private CA's CREATING; `certificate_issuing`: from IssueCertificate to the
    # certificate being retrievable (acm_pca.py).
    "fast": {"default": 0.02, "slow": 0.05, "stale_reads": 0.0, "ssm_online": 0.05,
             "ssm_visible": 0.02, "ca_creating": 0.05, "certificate_issuing": 0.02},
    "realistic": {"default": 1.5, "slow": 12.0, "stale_reads": 3.0, "ssm_online": 30.0,
                  "ssm_visible": 1.0, "ca_creating": 5.0, "certificate_issuing": 2.0},
}


@dataclass
class Context:
    """What every behaviour module may read at install time."""

    pace: dict[str, float]
    data_dir: str
    region: str = "us-east-1"
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    # WSGI middlewares, applied outermost-last: each is `callable(app) -> app`.
    middlewares: list[Any] = field(default_factory=list)
    # Set once the moto server listens, e.g. "http://127.0.0.1:40123".
    endpoint_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _behaviour_modules() -> list[Any]:
    """Installed at start: what they add costs nothing until it is used."""
    # Imported here so that a module's import-time failure names itself clearly.
    import action_log
    import control_api
    import fault_injection
    import s3_bucket_policies
    import stale_reads
    import sts_mfa

    return [stale_reads, sts_mfa, fault_injection, action_log, s3_bucket_policies, control_api]


def _identity_steps(ctx: Context) -> list[Any]:
    """Run before the first request that needs moto's IAM (see first_use.py)."""

    def accounts_and_mfa() -> None:
        import iam_managed_policies
        import sts_mfa

        accounts.create()
        iam_managed_policies.install(ctx)
        sts_mfa.create()

    return [accounts_and_mfa]


def _service_steps(ctx: Context) -> list[Any]:
    """Run, in this order, before the first request for any other service (see first_use.py).
    Each module is imported only here: most import moto's service backends at their top."""

    def installing(name: str, entry: str = "install") -> Any:
        def step() -> None:
            module = importlib.import_module(name)
            getattr(module, entry)(ctx)

        return step

    return [
        installing("cfn_intrinsics"),
        installing("cfn_parameters"),
        installing("cfn_resource_types"),
        installing("security_group_rules"),
        installing("apigateway_private_domains"),
        installing("async_cloudformation"),
        installing("change_set_details"),
        installing("stale_reads", "install_moto"),
        installing("secrets_cross_account"),
        installing("secrets_rotation"),
        installing("s3_bucket_policies", "install_moto"),
        installing("privatelink"),
        installing("sandbox_domain"),
        installing("lambda_runtime"),
        installing("function_workers"),
        installing("data_plane"),
        installing("acm_pca"),
        installing("ssm_run_command"),
        installing("mtls_data_plane"),
    ]


def _write_atomically(path: str, document: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(document, out, indent=2)
    os.replace(tmp, path)


def _watch_parent(server: Any) -> None:
    """Shut down once reparented: the starter died without stopping us (e.g. a killed test run)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        server.shutdown()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-plane-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--pace", choices=sorted(PACES), default="fast")
    parser.add_argument("--data-dir", required=True, help="where the sandbox CA is kept")
    parser.add_argument("--ready-file", required=True)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started the emulator goes away (test harnesses)",
    )
    args = parser.parse_args(argv)

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the sandbox only listens on loopback")
    os.makedirs(args.data_dir, exist_ok=True)

    ctx = Context(pace=PACES[args.pace], data_dir=args.data_dir)
    ctx.accounts = accounts.describe()
    modules = _behaviour_modules()
    for module in modules:
        module.install(ctx)
    stages = first_use.Stages(_identity_steps(ctx), _service_steps(ctx))
    ctx.extra["stages"] = stages

    app: Any = DomainDispatcherApplication(create_backend_app)
    for wrap in ctx.middlewares:
        app = wrap(app)
    # Outermost: every other middleware may already read moto's state.
    app = stages.middleware(app)

    # werkzeug reports a taken port itself and exits; say it our way, naming the flag to change.
    try:
        server = make_server(
            args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
        )
    except (OSError, SystemExit):
        print(
            f"xwizard sandbox: cannot listen on {args.host}:{args.port}: the port is taken. "
            "Choose another port (--port) or stop what uses it.",
            file=sys.stderr,
        )
        sys.exit(3)
    port = server.server_port
    # moto builds some URLs (queues, presigned links) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    ctx.endpoint_url = f"http://{args.host}:{port}"

    import data_plane

    stages.guard_data_plane(data_plane)
    try:
        plane = data_plane.start(ctx, args.host, args.data_plane_port)
    except OSError as err:
        print(
            f"xwizard sandbox: cannot listen on {args.host}:{args.data_plane_port} for the data "
            f"plane: {err.strerror}. Choose another port (--data-plane-port) or stop what uses it.",
            file=sys.stderr,
        )
        sys.exit(3)

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.exit_with_parent:
        _watch_parent(server)

    _write_atomically(
        args.ready_file,
        {
            "pid": os.getpid(),
            "endpoint_url": ctx.endpoint_url,
            "pace": args.pace,
            "accounts": ctx.accounts,
            "data_plane": plane,
            # The public hosted zone of the sandbox's own domain (sandbox_domain.py).
            "hosted_zone": sandbox_domain.HOSTED_ZONE,
        },
    )
    server.serve_forever()
    data_plane.stop()
    if stages.services.done:
        import function_workers
        import ssm_run_command

        function_workers.stop_all()
        ssm_run_command.stop_all()


if __name__ == "__main__":
    main()
