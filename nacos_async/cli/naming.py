"""``nacos-async naming register|deregister|list|select|watch|services``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from nacos_async.cli._common import EXIT_OK, add_connection_flags, add_group_flag, emit, run
from nacos_async.client import NacosClient
from nacos_async.names import DEFAULT_CLUSTER
from nacos_async.naming import Instance


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "naming",
        help="service discovery",
        description="Register instances, list and watch services.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    register = actions.add_parser(
        "register",
        help="register an instance and keep it alive until Ctrl-C, SIGTERM or --seconds; "
        "it is deregistered on the way out",
    )
    deregister = actions.add_parser("deregister", help="remove an instance")
    listing = actions.add_parser("list", help="list a service's instances")
    select = actions.add_parser("select", help="pick one healthy instance by weight")
    watch = actions.add_parser(
        "watch", help="print the instance list on every change until Ctrl-C or SIGTERM"
    )
    services = actions.add_parser("services", help="list the services of a group")
    for sub in (register, deregister, listing, select, watch):
        sub.add_argument("service", help="service name")
    for sub in (register, deregister):
        sub.add_argument("ip", help="the instance's IP address")
        sub.add_argument("port", type=int, help="the instance's port")
        sub.add_argument(
            "--cluster", default=DEFAULT_CLUSTER, help="cluster (default: %(default)s)"
        )
    for sub in (register, deregister, listing, select, watch, services):
        add_group_flag(sub)
        add_connection_flags(sub)
    register.add_argument(
        "--weight", type=float, default=1.0, help="share of traffic (default: %(default)s)"
    )
    register.add_argument(
        "--metadata", default="{}", help='JSON object, e.g. {"v":"2"} (default: %(default)s)'
    )
    register.add_argument(
        "--seconds",
        type=float,
        default=0,
        help="stay registered N seconds; 0 = until Ctrl-C or SIGTERM (default: 0)",
    )
    listing.add_argument(
        "--healthy-only", dest="healthy_only", action="store_true", help="only healthy instances"
    )
    watch.add_argument(
        "--count", type=int, default=0, help="stop after N lists; 0 = never (default: 0)"
    )
    services.add_argument("--page", type=int, default=1, help="page number (default: 1)")
    services.add_argument(
        "--page-size",
        dest="page_size",
        type=int,
        default=100,
        help="services per page, at most 500 (default: %(default)s)",
    )
    register.set_defaults(func=lambda args: run(args, _register, long_running=True))
    deregister.set_defaults(func=lambda args: run(args, _deregister))
    listing.set_defaults(func=lambda args: run(args, _list))
    select.set_defaults(func=lambda args: run(args, _select))
    watch.set_defaults(func=lambda args: run(args, _watch, long_running=True))
    services.set_defaults(func=lambda args: run(args, _services))
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


async def _deregister(client: NacosClient, args: argparse.Namespace) -> int:
    await client.naming.deregister_instance(
        args.service, args.ip, args.port, group=args.group, cluster=args.cluster
    )
    data = {"service": args.service, "ip": args.ip, "port": args.port, "deregistered": True}
    emit(args, data, f"deregistered {args.ip}:{args.port} from {args.group}@@{args.service}")
    return EXIT_OK


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
    print(f"watching {args.group}@@{args.service}; Ctrl-C to stop", file=sys.stderr, flush=True)
    async for hosts in client.naming.watch(args.service, group=args.group, initial=True):
        data = {"service": args.service, "instances": [h.model_dump() for h in hosts]}
        rows = "\n".join(_row(h) for h in hosts)
        emit(args, data, f"--- {args.service}: {len(hosts)} instance(s)\n{rows}")
        sys.stdout.flush()
        seen += 1
        if args.count and seen >= args.count:
            break
    return EXIT_OK


async def _services(client: NacosClient, args: argparse.Namespace) -> int:
    page = await client.naming.list_services(
        group=args.group, page=args.page, page_size=args.page_size
    )
    emit(args, {"group": args.group, "count": page.count, "services": page.names},
         "\n".join(page.names) or "(no services)")  # fmt: skip
    return EXIT_OK
