"""What the aiohttp and FastAPI integrations share: registering the app, live typed configs."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
from pydantic import BaseModel

from nacos_async.config.models import ConfigChange, format_of, parse_model
from nacos_async.errors import NacosConfigParseError

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

logger = logging.getLogger("nacos_async")
M = TypeVar("M", bound=BaseModel)


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
        return self.ip or local_ip_towards(client.health().current_server.rpartition(":")[0])


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


class LiveConfig(Generic[M]):
    """A typed config kept current by the client's config watcher.

    ``value`` is the last good model: content that fails validation is logged and skipped.
    """

    def __init__(self, data_id: str, model: type[M], *, group: str = "DEFAULT_GROUP") -> None:
        self.data_id = data_id
        self.model = model
        self.group = group
        self._value: M | None = None
        self.updates = 0
        self._updated = anyio.Event()

    def __repr__(self) -> str:
        return f"LiveConfig({self.data_id!r}, {self.model.__name__}, updates={self.updates})"

    @property
    def value(self) -> M:
        if self._value is None:
            raise RuntimeError(f"config {self.data_id!r} is not loaded yet (the app did not start)")
        return self._value

    async def wait_for_update(self) -> M:
        """Wait until the next good value arrives, and return it."""
        await self._updated.wait()
        return self.value

    async def start(self, client: NacosClient) -> None:
        """Follow the config, then read it (start-up fails if it is missing or invalid)."""
        fmt = "json"

        async def follow(change: ConfigChange) -> None:
            if change.content is None:
                logger.warning("config %s was deleted; keeping the last good model", self.data_id)
                return
            try:
                self._value = parse_model(change.content, self.model, fmt, name=self.data_id)
            except NacosConfigParseError as exc:
                logger.warning("keeping the last good model: %s", exc)
                return
            self.updates += 1
            self._updated.set()
            self._updated = anyio.Event()

        # listen first, read second: a change published in between reaches the listener
        await client.config.add_listener(self.data_id, follow, group=self.group)
        try:
            item = await client.config.get_with_meta(self.data_id, group=self.group)
            fmt = format_of(item.type, None)
            model = parse_model(item.content, self.model, fmt, name=self.data_id)
        except BaseException:
            client.config.remove_listener(self.data_id, follow, group=self.group)
            raise
        if self.updates == 0:
            self._value = model


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
