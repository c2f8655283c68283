"""``nacos-async naming register|list|select|watch``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from nacos_async.cli._common import EXIT_OK, add_connection_flags, emit, run
from nacos_async.client import NacosClient
from nacos_async.naming import Instance


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser("naming", help="service discovery")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    register = actions.add_parser(
        "register", help="register an instance and keep it alive until Ctrl-C or --seconds"
    )
    listing = actions.add_parser("list", help="list a service's instances")
    select = actions.add_parser("select", help="pick one healthy instance by weight")
    watch = actions.add_parser("watch", help="print the instance list on every change")
    for sub in (register, listing, select, watch):
        sub.add_argument("service")
        sub.add_argument("--group", default="DEFAULT_GROUP")
        add_connection_flags(sub)
    register.add_argument("ip")
    register.add_argument("port", type=int)
    register.add_argument("--weight", type=float, default=1.0)
    register.add_argument("--cluster", default="DEFAULT")
    register.add_argument("--metadata", default="{}", help='JSON object, e.g. {"v":"2"}')
    register.add_argument("--seconds", type=float, default=0, help="stay registered N seconds")
    listing.add_argument("--healthy-only", dest="healthy_only", action="store_true")
    watch.add_argument("--count", type=int, default=0, help="stop after N lists")
    register.set_defaults(func=lambda args: run(args, _register))
    listing.set_defaults(func=lambda args: run(args, _list))
    select.set_defaults(func=lambda args: run(args, _select))
    watch.set_defaults(func=lambda args: run(args, _watch))
    return parser


def _row(instance: Instance) -> str:
    state = "healthy" if instance.healthy else "unhealthy"
    meta = json.dumps(instance.metadata) if instance.metadata else ""
    where = f"{instance.address:<24} weight={instance.weight:<6g} {instance.cluster_name:<10}"
    return f"{where} {state} {meta}"


async def _register(client: NacosClient, args: argparse.Namespace) -> int:
    try:
        metadata = json.loads(args.metadata)
    except ValueError:
        raise ValueError(f"--metadata is not JSON: {args.metadata!r}") from None
    await client.naming.register_instance(
        args.service, args.ip, args.port, group=args.group, cluster=args.cluster,
        weight=args.weight, metadata=metadata,
    )  # fmt: skip
    data = {"service": args.service, "ip": args.ip, "port": args.port, "registered": True}
    emit(args, data, f"registered {args.ip}:{args.port} in {args.group}@@{args.service}")
    sys.stdout.flush()
    await asyncio.sleep(args.seconds if args.seconds > 0 else float("inf"))
    return EXIT_OK  # close() deregisters


async def _list(client: NacosClient, args: argparse.Namespace) -> int:
    hosts = await client.naming.list_instances(
        args.service, group=args.group, healthy_only=args.healthy_only
    )
    emit(args, {"service": args.service, "instances": [h.model_dump() for h in hosts]},
         "\n".join(_row(h) for h in hosts) or "(no instances)")  # fmt: skip
    return EXIT_OK


async def _select(client: NacosClient, args: argparse.Namespace) -> int:
    host = await client.naming.select_instance(args.service, group=args.group)
    emit(args, host.model_dump(), host.address)
    return EXIT_OK


async def _watch(client: NacosClient, args: argparse.Namespace) -> int:
    seen = 0
    async for hosts in client.naming.watch(args.service, group=args.group, initial=True):
        data = {"service": args.service, "instances": [h.model_dump() for h in hosts]}
        rows = "\n".join(_row(h) for h in hosts)
        emit(args, data, f"--- {args.service}: {len(hosts)} instance(s)\n{rows}")
        sys.stdout.flush()
        seen += 1
        if args.count and seen >= args.count:
            break
    return EXIT_OK
