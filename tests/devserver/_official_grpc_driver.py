"""Drives the official asyncio gRPC client (nacos-sdk-python 3.2.0, package ``v2.nacos``).

It runs in its own virtualenv (grpcio, protobuf and 60 other packages we do not share) and
talks to the test over stdin/stdout: one JSON command per line, one JSON answer per line.
Listener and subscriber callbacks are queued and read with ``next_event``.

Usage: python _official_grpc_driver.py HOST:PORT WORKDIR
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import warnings
from typing import Any

warnings.simplefilter("ignore")

from v2.nacos import (  # type: ignore[import-not-found]  # noqa: E402
    ClientConfigBuilder,
    ConfigParam,
    DeregisterInstanceParam,
    GRPCConfig,
    ListInstanceParam,
    NacosConfigService,
    NacosNamingService,
    RegisterInstanceParam,
    SubscribeServiceParam,
)


async def main() -> None:
    address, workdir = sys.argv[1], sys.argv[2]
    config = (
        ClientConfigBuilder()
        .server_address(address)
        .username("nacos")
        .password("nacos")
        .log_dir(os.path.join(workdir, "logs"))
        .cache_dir(os.path.join(workdir, "cache"))
        .log_level(logging.WARNING)
        .load_cache_at_start(False)
        .grpc_config(GRPCConfig(grpc_timeout=5000))
        .build()
    )
    config.set_update_cache_when_empty(True)  # else a push with no instances is ignored
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    services: dict[str, Any] = {}

    async def on_config(tenant: str, group: str, data_id: str, content: str) -> None:
        await events.put({"kind": "config", "data_id": data_id, "group": group, "content": content})

    async def on_instances(instances: list[Any]) -> None:
        hosts = [{"ip": i.ip, "port": i.port} for i in instances]
        await events.put({"kind": "naming", "hosts": hosts})

    async def config_service() -> Any:
        if "config" not in services:
            services["config"] = await NacosConfigService.create_config_service(config)
        return services["config"]

    async def naming_service() -> Any:
        if "naming" not in services:
            services["naming"] = await NacosNamingService.create_naming_service(config)
        return services["naming"]

    async def run(op: str, args: list[Any]) -> Any:
        if op == "get_config":
            return await (await config_service()).get_config(
                ConfigParam(data_id=args[0], group=args[1])
            )
        if op == "publish_config":
            return await (await config_service()).publish_config(
                ConfigParam(data_id=args[0], group=args[1], content=args[2])
            )
        if op == "remove_config":
            return await (await config_service()).remove_config(
                ConfigParam(data_id=args[0], group=args[1])
            )
        if op == "add_listener":
            await (await config_service()).add_listener(args[0], args[1], on_config)
            return True
        if op == "register":
            return await (await naming_service()).register_instance(
                RegisterInstanceParam(service_name=args[0], ip=args[1], port=args[2], weight=2.0,
                                      metadata={"v": "2"})
            )  # fmt: skip
        if op == "deregister":
            return await (await naming_service()).deregister_instance(
                DeregisterInstanceParam(service_name=args[0], ip=args[1], port=args[2])
            )
        if op == "list":
            instances = await (await naming_service()).list_instances(
                ListInstanceParam(service_name=args[0], healthy_only=None)
            )
            return [
                {"ip": i.ip, "port": i.port, "weight": i.weight, "metadata": i.metadata}
                for i in instances
            ]
        if op == "subscribe":
            await (await naming_service()).subscribe(
                SubscribeServiceParam(service_name=args[0], subscribe_callback=on_instances)
            )
            return True
        if op == "next_event":
            return await asyncio.wait_for(events.get(), args[0])
        raise ValueError(f"unknown op {op!r}")

    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = json.loads(line)
        if command["op"] == "exit":
            break
        try:
            answer = {"ok": True, "result": await run(command["op"], command.get("args", []))}
        except Exception as exc:  # reported to the test, which asserts on it
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    for service in services.values():
        await service.shutdown()
    sys.stdout.flush()
    os._exit(0)  # grpcio's threads need not be waited for


if __name__ == "__main__":
    asyncio.run(main())
