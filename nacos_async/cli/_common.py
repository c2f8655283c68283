"""What every client subcommand shares: connection flags, output, and exit codes.

Flags override ``NACOS_*`` environment variables. Exit codes let scripts tell failures apart:
0 ok, 1 other Nacos error, 2 bad arguments, 3 not found, 4 auth or permission refused,
5 connection or timeout, 6 conflict (CAS), 130 interrupted. SIGTERM or SIGINT ends a
long-running command (watch, register) in order, with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from nacos_async.client import NacosClient
from nacos_async.errors import (
    NacosAuthError,
    NacosConflictError,
    NacosConnectionError,
    NacosError,
    NacosNotFoundError,
    NacosTimeoutError,
)
from nacos_async.names import DEFAULT_GROUP
from nacos_async.settings import NacosSettings
from nacos_async.shutdown import stop_on_signals

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_AUTH = 4
EXIT_CONNECTION = 5
EXIT_CONFLICT = 6
EXIT_INTERRUPTED = 130

_FLAGS = {
    "server": "server_addr",
    "namespace": "namespace",
    "username": "username",
    "password": "password",
    "context_path": "context_path",
    "api_version": "api_version",
    "timeout": "request_timeout",
}


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """Flags naming the server and the credentials; unset ones come from NACOS_* variables."""
    group = parser.add_argument_group("connection (default: NACOS_* environment variables)")
    group.add_argument(
        "--server",
        metavar="ADDRS",
        help="comma-separated host:port list, e.g. h1:8848,h2:8848 "
        "(default: NACOS_SERVER_ADDR, else 127.0.0.1:8848)",
    )
    group.add_argument("--namespace", help="namespace id (default: NACOS_NAMESPACE, else public)")
    group.add_argument(
        "--username", help="login user (default: NACOS_USERNAME; none means auth off)"
    )
    group.add_argument(
        "--password",
        help="login password (default: NACOS_PASSWORD; prefer it, flags show up in `ps`)",
    )
    group.add_argument(
        "--context-path",
        dest="context_path",
        help="web context of the server (default: NACOS_CONTEXT_PATH, else /nacos)",
    )
    group.add_argument(
        "--api-version",
        dest="api_version",
        choices=["auto", "v1", "v3"],
        help="HTTP API generation; auto tries v3 and falls back to v1 "
        "(default: NACOS_API_VERSION, else auto)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="seconds per attempt (default: NACOS_REQUEST_TIMEOUT, else 10)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines for scripts")


def add_group_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", default=DEFAULT_GROUP, help="group (default: %(default)s)")


def settings_from(args: argparse.Namespace) -> NacosSettings:
    given = {field: getattr(args, flag) for flag, field in _FLAGS.items()}
    return NacosSettings(**{k: v for k, v in given.items() if v is not None})


def emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    """Print ``data`` as JSON with --json, else ``text``."""
    print(json.dumps(data, ensure_ascii=False) if args.json else text)


Body = Callable[[NacosClient, argparse.Namespace], Awaitable[int]]


def run(args: argparse.Namespace, body: Body, *, long_running: bool = False) -> int:
    """Build the client from flags, run ``body`` with it, map errors to exit codes.

    SIGTERM and SIGINT close the client in order (its instances are deregistered): a
    ``long_running`` command (watch, register) then exits 0, any other one 130.
    """
    try:
        settings = settings_from(args)
    except (ValidationError, ValueError) as exc:
        return _fail(args, EXIT_USAGE, "bad arguments", str(exc))

    async def main() -> int:
        async with stop_on_signals(), NacosClient.from_settings(settings) as client:
            return await body(client, args)
        return EXIT_OK if long_running else EXIT_INTERRUPTED  # stopped by a signal

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:  # Ctrl-C outside the block, or off the main thread
        return EXIT_INTERRUPTED
    except NacosError as exc:
        return _fail(args, exit_code_for(exc), type(exc).__name__, str(exc))
    except ValueError as exc:
        return _fail(args, EXIT_USAGE, "bad arguments", str(exc))


def exit_code_for(exc: NacosError) -> int:
    if isinstance(exc, NacosNotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(exc, NacosAuthError):
        return EXIT_AUTH
    if isinstance(exc, NacosConnectionError | NacosTimeoutError):
        return EXIT_CONNECTION
    if isinstance(exc, NacosConflictError):
        return EXIT_CONFLICT
    return EXIT_ERROR


def _fail(args: argparse.Namespace, code: int, kind: str, message: str) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": kind, "message": message, "exit_code": code}), file=sys.stderr)
    else:
        print(f"nacos-async: {kind}: {message}", file=sys.stderr)
    return code
