"""``nacos-async config get|publish|delete|watch``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nacos_async.cli._common import EXIT_OK, add_connection_flags, emit, run
from nacos_async.client import NacosClient


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser("config", help="read and write configs")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    get = actions.add_parser("get", help="print a config's content")
    publish = actions.add_parser("publish", help="create or replace a config")
    delete = actions.add_parser("delete", help="remove a config")
    watch = actions.add_parser("watch", help="print each change until Ctrl-C or --count")
    for sub in (get, publish, delete, watch):
        sub.add_argument("data_id")
        sub.add_argument("--group", default="DEFAULT_GROUP")
        add_connection_flags(sub)
    publish.add_argument("content", help="the content, or - to read standard input")
    publish.add_argument("--type", default="text", help="text, json, yaml, properties, ...")
    publish.add_argument("--cas-md5", dest="cas_md5", help="publish only if the MD5 still matches")
    watch.add_argument("--count", type=int, default=0, help="stop after N changes")
    get.set_defaults(func=lambda args: run(args, _get))
    publish.set_defaults(func=lambda args: run(args, _publish))
    delete.set_defaults(func=lambda args: run(args, _delete))
    watch.set_defaults(func=lambda args: run(args, _watch))
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
    async for change in client.config.watch(args.data_id, group=args.group):
        data = {"data_id": change.data_id, "group": change.group, "content": change.content,
                "md5": change.md5}  # fmt: skip
        text = "(deleted)" if change.content is None else change.content
        emit(args, data, f"--- {change.group}/{change.data_id} md5={change.md5 or '-'}\n{text}")
        sys.stdout.flush()
        seen += 1
        if args.count and seen >= args.count:
            break
    return EXIT_OK
