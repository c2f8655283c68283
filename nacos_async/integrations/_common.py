"""What the aiohttp and FastAPI integrations share: start the client and configs, register."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nacos_async.errors import clip
from nacos_async.integrations._drain import DrainOnSignal, Forward
from nacos_async.integrations.live_config import LiveConfig
from nacos_async.names import DEFAULT_CLUSTER, DEFAULT_GROUP
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
    group: str = DEFAULT_GROUP
    cluster: str = DEFAULT_CLUSTER
    weight: float = 1.0
    metadata: Mapping[str, str] = field(default_factory=dict)
    drain: float = 2.0
    """Seconds the app keeps serving after SIGTERM/SIGINT deregistered it (0: no drain)."""

    def __post_init__(self) -> None:
        if isinstance(self.drain, bool) or not isinstance(self.drain, int | float):
            raise ValueError(f"drain must be a number of seconds, got {clip(self.drain)}")
        if not 0 <= self.drain <= 600:
            raise ValueError(f"drain must be from 0 to 600 seconds, got {clip(self.drain)}")

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
    *,
    forward: Forward | None = None,
) -> None:
    """Start the client, load the live configs, register the app; undone by ``stack``.

    With a registration and a ``drain``, SIGTERM/SIGINT deregister first, the app serves
    ``drain`` seconds more, then ``forward`` hands the signal to the web server.
    """
    await stack.enter_async_context(client)
    for live in live_configs:
        await live.start(client)
        stack.push_async_callback(live.stop)
    if registration is None:
        return
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
    deregistered = False

    async def deregister() -> None:
        nonlocal deregistered
        if deregistered:
            return
        deregistered = True
        try:
            await client.naming.deregister_instance(
                registration.service, ip, registration.port,
                group=registration.group, cluster=registration.cluster,
            )  # fmt: skip
        except Exception as exc:  # shutdown goes on; the server expires the instance
            logger.warning("deregistering %s failed: %s", registration.service, exc)

    stack.push_async_callback(deregister)
    if registration.drain > 0:
        drain = DrainOnSignal(deregister, registration.drain, forward=forward)
        if drain.install():
            stack.callback(drain.uninstall)


async def readiness(
    client: NacosClient | None, live_configs: Sequence[LiveConfig[Any]]
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a readiness probe: 200 when the client is healthy and every
    live config holds a good value, 503 otherwise (the body says why)."""
    if client is None:
        return 503, {"ok": False, "state": "not started"}
    body = client.health().as_dict()
    invalid = {
        f"{live.group}/{live.data_id}": str(live.error)
        for live in live_configs
        if live.error is not None
    }
    body["invalid_live_configs"] = invalid
    body["ok"] = bool(body["ok"]) and not invalid
    return (200 if body["ok"] else 503), body
