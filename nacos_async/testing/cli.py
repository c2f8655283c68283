"""``nacos-async dev-server``: run the dev server in the foreground, logging every request."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from nacos_async.testing._errors import FLAVORS
from nacos_async.testing.server import NacosDevServer


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the dev-server options to ``parser`` (shared by the CLI and ``python -m``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8848, help="port (default 8848; 0 = any)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--auth",
        dest="auth",
        action="store_true",
        default=True,
        help="require tokens on client APIs (default)",
    )
    auth.add_argument(
        "--no-auth",
        dest="auth",
        action="store_false",
        help="leave client APIs open, as nacos.core.auth.enabled=false",
    )
    parser.add_argument("--username", default="nacos", help="admin user (default nacos)")
    parser.add_argument("--password", default="nacos", help="admin password (default nacos)")
    parser.add_argument("--token-ttl", type=int, default=18000, help="token TTL in seconds")
    parser.add_argument(
        "--flavor", choices=FLAVORS, default="2.x", help="Nacos generation to imitate (default 2.x)"
    )
    parser.add_argument("--data-dir", default=None, help="keep configs in this directory")
    parser.add_argument(
        "--secret-key",
        default=None,
        help="base64 JWT secret (>= 32 bytes decoded); random by default",
    )
    parser.add_argument(
        "--long-poll-min-hold",
        type=float,
        default=10.0,
        help="minimum long-poll hold in seconds (Nacos: 10)",
    )
    parser.add_argument(
        "--no-grpc",
        dest="grpc",
        action="store_false",
        default=None,
        help="serve HTTP only (by default gRPC is served on port + 1000 when grpclib is installed)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser  # fmt: skip


async def serve(args: argparse.Namespace, ready: asyncio.Event | None = None) -> None:
    """Serve until cancelled (Ctrl-C / SIGTERM)."""
    server = NacosDevServer(
        args.host,
        args.port,
        auth=args.auth,
        username=args.username,
        password=args.password,
        token_ttl=args.token_ttl,
        flavor=args.flavor,
        data_dir=args.data_dir,
        secret_key=args.secret_key,
        long_poll_min_hold=args.long_poll_min_hold,
        grpc=args.grpc,
    )
    async with server:
        logging.getLogger("nacos_async.testing").info(
            "Nacos dev server (flavor %s, auth %s) at %s, gRPC %s; controls under %s/__dev__/",
            server.flavor,
            "on" if server.auth else "off",
            server.url,
            server.grpc_address if server.grpc_enabled else "off",
            f"http://{server.address}",
        )
        if ready is not None:
            ready.set()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)


def run_dev_server_cli(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (without the program name) and serve; returns an exit status."""
    parser = configure_parser(
        argparse.ArgumentParser(prog="nacos-async dev-server", description=__doc__)
    )
    args = parser.parse_args(argv)
    return run_parsed(args)


def run_parsed(args: argparse.Namespace) -> int:
    """Serve with already parsed arguments (the ``nacos-async`` CLI's entry)."""
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"nacos-async dev-server: {exc}", file=sys.stderr)
        return 1
    return 0
