"""What the aiohttp and FastAPI integrations share: start the client and configs, register."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nacos_async.integrations.live_config import LiveConfig
from nacos_async.servers import parse_server_address

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

logger = logging.getLogger("nacos_async")

__all__ = ["LiveConfig", "ServiceRegistration", "local_ip_towards", "start_nacos"]


@dataclass(frozen=True)
class ServiceRegistration:
    """The instance an app registers on start-up and deregisters on shutdown."""

    service: str
    port: int
    ip: str | None = None
    group: str = "DEFAULT_GROUP"
    cluster: str = "DEFAULT"
    weight: float = 1.0
    metadata: Mapping[str, str] = field(default_factory=dict)

    def resolve_ip(self, client: NacosClient) -> str:
        if self.ip:
            return self.ip
        return local_ip_towards(parse_server_address(client.health().current_server).host)


def local_ip_towards(host: str) -> str:
    """The local address the OS would use to reach ``host``.

    A connected UDP socket sends nothing; it only asks the routing table. Falls back to the
    host name's address, then to loopback.
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))
            address: str = probe.getsockname()[0]
            return address
    except OSError:
        pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


async def start_nacos(
    stack: AsyncExitStack,
    client: NacosClient,
    registration: ServiceRegistration | None,
    live_configs: Sequence[LiveConfig[Any]],
) -> None:
    """Start the client, load the live configs, register the app; undone by ``stack``."""
    await stack.enter_async_context(client)
    for live in live_configs:
        await live.start(client)
        stack.push_async_callback(live.stop)
    if registration is not None:
        ip = registration.resolve_ip(client)
        await client.naming.register_instance(
            registration.service,
            ip,
            registration.port,
            group=registration.group,
            cluster=registration.cluster,
            weight=registration.weight,
            metadata=dict(registration.metadata),
        )

        async def deregister() -> None:
            try:
                await client.naming.deregister_instance(
                    registration.service, ip, registration.port,
                    group=registration.group, cluster=registration.cluster,
                )  # fmt: skip
            except Exception as exc:  # shutdown goes on; the server expires the instance
                logger.warning("deregistering %s failed: %s", registration.service, exc)

        stack.push_async_callback(deregister)
