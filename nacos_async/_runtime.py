"""What the services need from their client, and nothing more.

Config and naming take a ``Runtime``, never the ``NacosClient``: they send requests, pick API
families, read settings and time, report events, run background work and register what to do
on close. The client builds one runtime and keeps the rest of itself private.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nacos_async.api_version import ApiVersions
from nacos_async.background import Supervisor
from nacos_async.clock import Clock
from nacos_async.events import Events
from nacos_async.response import Send

if TYPE_CHECKING:
    from nacos_async.settings import NacosSettings

Closer = Callable[[], Awaitable[None]]
HealthProbe = Callable[[], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Runtime:
    """The services' view of one client."""

    settings: NacosSettings
    clock: Clock
    events: Events
    supervisor: Supervisor
    rng: random.Random
    send: Send  # one logical HTTP request, with failover, retries and the token
    api: ApiVersions
    closers: list[Closer] = field(default_factory=list)
    health: dict[str, HealthProbe] = field(default_factory=dict)

    def add_closer(self, closer: Closer) -> None:
        """Run ``closer`` at the start of ``close()``, while requests still work."""
        self.closers.append(closer)

    def add_health(self, name: str, probe: HealthProbe) -> None:
        """Include ``probe()`` under ``name`` in ``client.health()``."""
        self.health[name] = probe
