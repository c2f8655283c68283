"""``nacos-async dev-server``: run the dev server in the foreground, logging every request."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from nacos_async.shutdown import stop_on_signals
from nacos_async.testing._errors import FLAVORS
from nacos_async.testing.server import NacosDevServer


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the dev-server options to ``parser`` (shared by the CLI and ``python -m``)."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8848, help="port; 0 = any free port (default: %(default)s)"
    )
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
    parser.add_argument("--username", default="nacos", help="admin user (default: %(default)s)")
    parser.add_argument("--password", default="nacos", help="admin password (default: %(default)s)")
    parser.add_argument(
        "--token-ttl",
        type=int,
        default=18000,
        metavar="SECONDS",
        help="lifetime of the tokens it issues, as nacos.core.auth.plugin.nacos."
        "token.expire.seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--flavor",
        choices=FLAVORS,
        default="2.x",
        help="Nacos generation to imitate (default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help="keep configs in this directory (default: in memory only)",
    )
    parser.add_argument(
        "--secret-key",
        default=None,
        help="base64 JWT secret, >= 32 bytes decoded (default: a random one)",
    )
    parser.add_argument(
        "--long-poll-min-hold",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="least time a config long-poll is held, as Nacos does (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="do not log each request (the address line is still printed)",
    )
    parser.add_argument(
        "--no-grpc",
        dest="grpc",
        action="store_false",
        default=None,
        help="serve HTTP only (by default gRPC is served on port + 1000 when grpclib is installed)",
    )
    return parser  # fmt: skip


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGTERM or SIGINT (or cancelled)."""
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
    async with stop_on_signals(), server:
        # printed, not logged: --quiet must not hide the port that --port 0 picked
        grpc = server.grpc_address if server.grpc_enabled else "off"
        print(
            f"Nacos dev server (flavor {server.flavor}, auth {'on' if server.auth else 'off'}) "
            f"at {server.url}; gRPC {grpc}; control endpoints under "
            f"http://{server.address}/__dev__/",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.Event().wait()


def run_dev_server_cli(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (without the program name) and serve; returns an exit status."""
    parser = configure_parser(
        argparse.ArgumentParser(
            prog="python -m nacos_async.testing",
            description="Run a Nacos-compatible dev server in the foreground.",
        )
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
