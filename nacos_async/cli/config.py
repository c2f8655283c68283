"""``nacos-async config get|publish|delete|watch``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nacos_async.cli._common import EXIT_OK, add_connection_flags, add_group_flag, emit, run
from nacos_async.client import NacosClient


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "config", help="read and write configs", description="Read, write and watch configs."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    get = actions.add_parser("get", help="print a config's content")
    publish = actions.add_parser("publish", help="create or replace a config")
    delete = actions.add_parser("delete", help="remove a config")
    watch = actions.add_parser(
        "watch", help="print each change until Ctrl-C, SIGTERM or --count changes"
    )
    for sub in (get, publish, delete, watch):
        sub.add_argument("data_id", help="the config's dataId, e.g. app.yaml")
        add_group_flag(sub)
        add_connection_flags(sub)
    publish.add_argument("content", help="the content, or - to read standard input")
    publish.add_argument(
        "--type",
        default="text",
        help="text, json, yaml, properties, toml, xml or html; a text config is parsed by its "
        "dataId's extension (default: %(default)s)",
    )
    publish.add_argument(
        "--cas-md5",
        dest="cas_md5",
        metavar="MD5",
        help="publish only if the server's MD5 still matches (default: publish anyway)",
    )
    watch.add_argument(
        "--count", type=int, default=0, help="stop after N changes; 0 = never (default: 0)"
    )
    watch.add_argument("--initial", action="store_true", help="print the current content first")
    get.set_defaults(func=lambda args: run(args, _get))
    publish.set_defaults(func=lambda args: run(args, _publish))
    delete.set_defaults(func=lambda args: run(args, _delete))
    watch.set_defaults(func=lambda args: run(args, _watch, long_running=True))
    return parser


async def _get(client: NacosClient, args: argparse.Namespace) -> int:
    item = await client.config.get_with_meta(args.data_id, group=args.group)
    data = {"data_id": args.data_id, "group": args.group, "content": item.content,
            "md5": item.md5, "type": item.type, "source": item.source}  # fmt: skip
    emit(args, data, item.content)
    return EXIT_OK


async def _publish(client: NacosClient, args: argparse.Namespace) -> int:
    content = sys.stdin.read() if args.content == "-" else args.content
    await client.config.publish(
        args.data_id, content, group=args.group, type=args.type, cas_md5=args.cas_md5
    )
    emit(args, {"data_id": args.data_id, "group": args.group, "published": True},
         f"published {args.group}/{args.data_id}")  # fmt: skip
    return EXIT_OK


async def _delete(client: NacosClient, args: argparse.Namespace) -> int:
    await client.config.delete(args.data_id, group=args.group)
    emit(args, {"data_id": args.data_id, "group": args.group, "deleted": True},
         f"deleted {args.group}/{args.data_id}")  # fmt: skip
    return EXIT_OK


async def _watch(client: NacosClient, args: argparse.Namespace) -> int:
    seen = 0
    changes = client.config.watch(args.data_id, group=args.group, initial=args.initial)
    print(f"watching {args.group}/{args.data_id}; Ctrl-C to stop", file=sys.stderr, flush=True)
    async for change in changes:
        data = {"data_id": change.data_id, "group": change.group, "content": change.content,
                "md5": change.md5}  # fmt: skip
        missing = "(absent)" if args.initial and seen == 0 else "(deleted)"
        text = missing if change.content is None else change.content
        emit(args, data, f"--- {change.group}/{change.data_id} md5={change.md5 or '-'}\n{text}")
        sys.stdout.flush()
        seen += 1
        if args.count and seen >= args.count:
            break
    return EXIT_OK
