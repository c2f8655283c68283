"""``nacos-async demo``: the library at work against the embedded dev server.

A concurrent workload (config reads, a watcher fed by publishes, a registered instance kept by
heartbeats over HTTP or by the connection over gRPC, list and select) runs across several token
lifetimes and one secret rotation, with live progress, and ends with a table. It exits 1 if any
error reached a caller.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from nacos_async.client import NacosClient
from nacos_async.errors import NacosAuthError, NacosError
from nacos_async.testing import NacosDevServer

DATA_ID = "demo.yaml"
SERVICE = "demo-service"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run a concurrent workload against the embedded dev server",
        description="Run config reads, a config watcher fed by publishes and a registered "
        "instance against the embedded dev server, across several token "
        "lifetimes and one secret rotation, then print what happened. Exits 1 if any error "
        "reached a caller.",
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds to run (default: %(default)s)"
    )
    parser.add_argument(
        "--token-ttl",
        type=int,
        default=4,
        metavar="SECONDS",
        help="lifetime of each token the server issues (default: %(default)s)",
    )
    parser.add_argument(
        "--readers", type=int, default=50, help="concurrent readers (default: %(default)s)"
    )
    parser.add_argument(
        "--flavor",
        choices=["2.x", "3.1", "3.2"],
        default="3.1",
        help="Nacos generation the dev server imitates (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the final figures as JSON")
    parser.set_defaults(func=run)
    return parser


@dataclass
class Tally:
    """What the workload saw from the caller's side."""

    reads: int = 0
    lists: int = 0
    selects: int = 0
    publishes: int = 0
    changes_seen: int = 0
    surfaced: list[str] = field(default_factory=list)
    forbidden_surfaced: int = 0
    last_seen: str | None = None

    def failed(self, exc: NacosError) -> None:
        self.surfaced.append(str(exc))
        if isinstance(exc, NacosAuthError):
            self.forbidden_surfaced += 1


def run(args: argparse.Namespace) -> int:
    if args.duration <= 0 or args.token_ttl <= 0 or args.readers <= 0:
        print("nacos-async: --duration, --token-ttl and --readers must be > 0", file=sys.stderr)
        return 2
    try:
        figures = asyncio.run(_demo(args))
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(json.dumps(figures))
    else:
        print(_table(figures))
    return 0 if figures["errors_surfaced"] == 0 and figures["config_changes_seen"] > 0 else 1


async def _demo(args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    async with NacosDevServer(auth=True, token_ttl=args.token_ttl, flavor=args.flavor) as server:
        client = NacosClient(
            server.address, username="nacos", password="nacos", config_poll_interval=0.5
        )
        async with client:
            await client.config.publish(DATA_ID, "counter: 0", type="yaml")
            tally.publishes += 1
            await client.naming.register_instance(
                SERVICE, "127.0.0.1", 8080, metadata={"demo": "1"}
            )
            started = time.monotonic()
            deadline = started + args.duration
            rotated_at = started + args.duration / 2
            tasks = [
                asyncio.create_task(_reader(client, tally, deadline)) for _ in range(args.readers)
            ]
            tasks.append(asyncio.create_task(_watcher(client, tally)))
            tasks.append(asyncio.create_task(_publisher(client, tally, deadline)))
            rotated = False
            while time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                if not rotated and time.monotonic() >= rotated_at:
                    server.rotate_secret()
                    rotated = True
                _progress(time.monotonic() - started, args.duration, client, tally)
            await asyncio.gather(*tasks[: args.readers], tasks[-1])
            await _settle_watcher(tally)
            tasks[-2].cancel()
            await asyncio.gather(tasks[-2], return_exceptions=True)
            stats = client.stats
            transport = client.health().transport
            kept = server.naming.find("public", "DEFAULT_GROUP", SERVICE, "127.0.0.1", 8080)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        return {
            "flavor": args.flavor,
            "seconds": round(args.duration, 1),
            "token_ttl": args.token_ttl,
            "token_lifetimes": round(args.duration / args.token_ttl, 1),
            "secret_rotations": 1,
            "requests": stats.requests,
            "config_reads": tally.reads,
            "instance_lists_and_selects": tally.lists + tally.selects,
            "logins": stats.logins,
            "proactive_refreshes": stats.proactive_refreshes,
            "forced_logins": stats.forced_logins,
            "replays": stats.replays,
            "forbidden_answers_absorbed": sum(server.stats.forbidden.values()),
            "forbidden_surfaced": tally.forbidden_surfaced,
            "errors_surfaced": len(tally.surfaced),
            "first_error": tally.surfaced[0] if tally.surfaced else None,
            "config_publishes": tally.publishes,
            "config_changes_seen": tally.changes_seen,
            "watcher_has_latest": tally.last_seen == f"counter: {tally.publishes - 1}",
            "transport": transport,
            "instance_kept": kept is not None,
            "heartbeats": stats.heartbeats,
        }


async def _reader(client: NacosClient, tally: Tally, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            await client.config.get(DATA_ID)
            tally.reads += 1
            await client.naming.list_instances(SERVICE)
            tally.lists += 1
            await client.naming.select_instance(SERVICE)
            tally.selects += 1
        except NacosError as exc:
            tally.failed(exc)
        await asyncio.sleep(0.01)


async def _publisher(client: NacosClient, tally: Tally, deadline: float) -> None:
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        try:
            await client.config.publish(DATA_ID, f"counter: {tally.publishes}", type="yaml")
            tally.publishes += 1
        except NacosError as exc:
            tally.failed(exc)


async def _watcher(client: NacosClient, tally: Tally) -> None:
    async for change in client.config.watch(DATA_ID):
        tally.changes_seen += 1
        tally.last_seen = change.content


async def _settle_watcher(tally: Tally) -> None:
    """Give the watcher a moment to deliver the last publish (bounded)."""
    expected = f"counter: {tally.publishes - 1}"
    for _ in range(100):
        if tally.last_seen == expected:
            return
        await asyncio.sleep(0.05)


def _progress(elapsed: float, total: float, client: NacosClient, tally: Tally) -> None:
    stats = client.stats
    line = (
        f"[{min(elapsed, total):5.1f}/{total:.0f}s] requests {stats.requests:6d}  "
        f"logins {stats.logins:3d}  refreshes {stats.proactive_refreshes:3d}  "
        f"replays {stats.replays:4d}  changes seen {tally.changes_seen:3d}  "
        f"errors surfaced {len(tally.surfaced)}"
    )
    if sys.stderr.isatty():
        print("\r" + line, end="", file=sys.stderr, flush=True)
    elif int(elapsed * 4) % 8 == 0:  # about every 2 s when not on a terminal
        print(line, file=sys.stderr, flush=True)


ROWS = {
    "flavor": ("Nacos flavor", "the Nacos generation the dev server imitates"),
    "seconds": ("seconds", "how long the workload ran"),
    "token_ttl": ("token TTL", "seconds each token lives"),
    "token_lifetimes": ("token lifetimes", "how many tokens expired during the run"),
    "secret_rotations": (
        "secret rotations",
        "times the server's signing key changed mid-run, which invalidates every token at once",
    ),
    "requests": ("requests", "HTTP requests the client sent, retries and replays included"),
    "config_reads": ("config reads", "reads that returned the config"),
    "instance_lists_and_selects": ("instance lists and selects", "naming reads that succeeded"),
    "logins": ("logins", "the first, one per token lifetime, and the forced ones"),
    "proactive_refreshes": ("proactive refreshes", "renewals before expiry, beside the requests"),
    "forced_logins": ("forced logins", "logins caused by a refused token (the rotation)"),
    "replays": ("replays", "requests refused with 403 and sent again with a fresh token"),
    "forbidden_answers_absorbed": (
        "forbidden answers absorbed",
        "403s the server sent, all handled by those replays",
    ),
    "forbidden_surfaced": ("403s surfaced", "403s that reached a caller: always 0"),
    "errors_surfaced": ("errors surfaced", "errors of any kind that reached a caller: always 0"),
    "first_error": ("first error", "the first of them, if any"),
    "config_publishes": ("config publishes", "new values the publisher wrote"),
    "config_changes_seen": (
        "config changes seen",
        "values the watcher received; a slow watcher may skip to the latest",
    ),
    "watcher_has_latest": ("watcher has latest", "the watcher ended on the last value published"),
    "transport": ("transport", "for config and naming, chosen at start (grpc with the extra)"),
    "instance_kept": ("instance kept", "the registered instance was on the server to the end"),
    "heartbeats": ("heartbeats", "beats that kept it alive over HTTP (none over gRPC)"),
}


def _table(figures: dict[str, Any]) -> str:
    rows = [
        (ROWS[key][0], "" if value is None else str(value), ROWS[key][1])
        for key, value in figures.items()
    ]
    label_width = max(len(label) for label, _, _ in rows)
    value_width = max(len("value"), *(len(value) for _, value, _ in rows))
    lines = [
        f"{'figure'.ljust(label_width)}  {'value'.ljust(value_width)}  meaning",
        f"{'-' * label_width}  {'-' * value_width}  -------",
    ]
    lines += [f"{label.ljust(label_width)}  {v.ljust(value_width)}  {m}" for label, v, m in rows]
    verdict = "OK: no error reached a caller" if figures["errors_surfaced"] == 0 else "FAILED"
    return "\n".join([*lines, "", verdict])
