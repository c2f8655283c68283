"""``nacos-async login``: check credentials and show the token's lifetime (never the token)."""

from __future__ import annotations

import argparse
from typing import Any

from nacos_async.cli._common import EXIT_OK, add_connection_flags, emit, run
from nacos_async.client import NacosClient


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "login",
        help="check credentials",
        description="Log in and print the token's TTL (never the token).",
    )
    add_connection_flags(parser)
    parser.set_defaults(func=lambda args: run(args, _login))
    return parser


async def _login(client: NacosClient, args: argparse.Namespace) -> int:
    health = client.health()
    settings = client.settings
    servers = health.servers
    if not health.auth or health.token_valid_for is None:
        emit(
            args,
            {"auth": False, "servers": servers},
            "no username given: auth is off, nothing to log in to",
        )
        return EXIT_OK
    ttl = health.token_valid_for
    emit(
        args,
        {"auth": True, "username": settings.username, "token_ttl": ttl, "servers": servers},
        f"logged in as {settings.username!r}; token valid for {ttl:.0f} s",
    )
    return EXIT_OK
