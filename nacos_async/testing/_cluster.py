"""``NacosDevCluster``: several dev servers acting as one Nacos cluster.

The nodes share configs, users and the token secret, as real nodes share a database and
``nacos.core.auth.plugin.nacos.token.secret.key``. Naming follows Distro, the protocol that
replicates ephemeral instances: every ``ip:port`` has one responsible node (Java
``String.hashCode`` of ``"ip:port"`` modulo the sorted member list, as ``DistroMapper`` does).

- ``/v1/ns/*`` writes pass the DistroFilter: they are forwarded to the responsible node, which
  syncs them to every node. So are v1 beats.
- v2/v3 HTTP writes are handled by the node that receives them (the filter is mapped on
  ``/v1/ns/*`` only, also in 3.2). On the responsible node they are synced as usual. On any other
  node they stay there: the other nodes never see the instance, this node never beat-checks it
  (it neither turns unhealthy nor expires after 30 s) and drops it only when its client has been
  silent for three minutes. That is alibaba/nacos#14992.
- gRPC registrations belong to the connection, and the node holding it syncs them to every node:
  they are seen everywhere, whichever node the client connected to, and removed everywhere
  when the connection ends. Persistent instances (Raft) are written to every node too.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from nacos_async.testing._auth import new_secret
from nacos_async.testing._naming_store import NamingStore
from nacos_async.testing.server import NacosDevServer

_INT_MAX = 2**31 - 1


def java_string_hash(text: str) -> int:
    """``String.hashCode()``: 31-based over UTF-16 code units, as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i : i + 2], "big")) & 0xFFFFFFFF
    return h - 2**32 if h >= 2**31 else h


def distro_index(tag: str, members: int) -> int:
    """``DistroMapper.mapSrv``: ``abs(hash % Integer.MAX_VALUE) % members``."""
    return (abs(java_string_hash(tag)) % _INT_MAX) % members


class NacosDevCluster:
    """``size`` dev servers on their own ports forming one cluster (see the module docstring).

    ``async with NacosDevCluster(3, flavor="3.1") as cluster``: ``cluster.address`` is the
    comma-separated list a client takes as ``server_addr``, ``cluster.nodes[i]`` each server
    (fault switches, stats, ``address``), ``cluster.responsible(ip, port)`` the node that owns
    an instance. Other keyword arguments go to every ``NacosDevServer`` (``port`` excepted).
    """

    def __init__(self, size: int = 3, **options: Any) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 32:
            raise ValueError(f"a cluster has 1 to 32 nodes, not {size!r}")
        if "port" in options:
            raise ValueError("cluster nodes pick their own free ports; do not pass port=")
        secret = options.pop("secret_key", None) or new_secret()
        self.nodes = [NacosDevServer(secret_key=secret, **options) for _ in range(size)]
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.configs = first.configs
            node.users = first.users
            node.jwt = first.jwt
        self._started = False

    # ----- lifecycle --------------------------------------------------------------------------
    async def start(self) -> Self:
        """Start every node, then join their naming stores into one Distro cluster."""
        started: list[NacosDevServer] = []
        try:
            for node in self.nodes:
                started.append(await node.start())
        except BaseException:
            for node in started:
                await node.close()
            raise
        for node in self.nodes:
            node.naming.replication = self
        self._started = True
        return self

    async def close(self) -> None:
        """Close every node; safe to call twice."""
        self._started = False
        for node in self.nodes:
            await node.close()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ----- addresses ---------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``host:port,host:port,...``: what a client takes as its server list."""
        return ",".join(node.address for node in self.nodes)

    def _members(self) -> list[NacosDevServer]:
        if not self._started:
            raise RuntimeError("the dev cluster is not started")
        return sorted(self.nodes, key=lambda node: node.address)

    def responsible(self, ip: str, port: int) -> NacosDevServer:
        """The node Distro makes responsible for the instance ``ip:port``."""
        members = self._members()
        return members[distro_index(f"{ip.strip()}:{port}", len(members))]

    # ----- Replication (used by the nodes' naming stores) ---------------------------------------
    def write_targets(
        self, receiver: NamingStore, ip: str, port: int, *, routed: bool
    ) -> tuple[list[NamingStore], bool]:
        owner = self.responsible(ip, port).naming
        if not routed and receiver is not owner:
            return [receiver], False  # not synced, not beat-checked: it stays here
        return [owner] + [n.naming for n in self.nodes if n.naming is not owner], True

    def everywhere(self) -> list[NamingStore]:
        return [node.naming for node in self.nodes]

    def __repr__(self) -> str:
        state = self.address if self._started else "not started"
        return f"NacosDevCluster({len(self.nodes)} nodes, {state})"
