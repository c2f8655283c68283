"""What differs between Nacos generations on the gRPC port, one table row per flavor.

The wire, the messages and the handlers are the same in 2.3-2.5 and 3.x; the differences are the
abilities the server advertises in ``SetupAckRequest``, how the default config namespace is
spelled, and which request types exist (auth messages come from ``_errors.auth_message``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from nacos_async.testing._config_store import PUBLIC


@dataclass(frozen=True)
class GrpcFlavor:
    """One Nacos generation's gRPC behaviour."""

    abilities: Mapping[str, bool]
    default_namespaces: frozenset[str]  # tenants that mean "public" (NamespaceUtil)
    renamed_in_push: frozenset[str]  # listened tenants a push replaces by ``default_in_push``
    default_in_push: str | None  # "" or None (the field is omitted)
    request_types: frozenset[str] = field(default_factory=frozenset)  # beyond the common ones

    def namespace(self, tenant: str | None) -> str:
        """The store's namespace for a tenant as sent (the public one is spelled ``public``)."""
        value = (tenant or "").strip()
        return PUBLIC if value in self.default_namespaces else value

    def push_tenant(self, listened: str) -> str | None:
        """The ``tenant`` of a config push to a client that listened with ``listened``."""
        return self.default_in_push if listened.strip() in self.renamed_in_push else listened


_PERSISTENT = frozenset({"PersistentInstanceRequest"})

V2 = GrpcFlavor(  # 2.5.1: blank, "public" and "null" are the default namespace, spelled ""
    abilities={"supportPersistentInstanceByGrpc": True},
    default_namespaces=frozenset({"", "public", "null"}),
    renamed_in_push=frozenset({"", "public", "null"}),
    default_in_push="",
    request_types=_PERSISTENT,
)
V3 = GrpcFlavor(  # 3.0-3.1: blank is "public"; a push to a blank-tenant listener omits tenant
    abilities={"supportPersistentInstanceByGrpc": True, "fuzzyWatch": True, "lock": True,
               "mcp": True},
    default_namespaces=frozenset({"", PUBLIC}),
    renamed_in_push=frozenset({""}),
    default_in_push=None,
    request_types=_PERSISTENT,
)  # fmt: skip

GRPC_FLAVORS: dict[str, GrpcFlavor] = {"2.x": V2, "3.1": V3, "3.2": V3, "3.3": V3}


def grpc_flavor(flavor: str) -> GrpcFlavor:
    """The row for ``flavor``; a flavor missing from the table is a programming error."""
    try:
        return GRPC_FLAVORS[flavor]
    except KeyError:
        raise ValueError(f"no gRPC behaviour defined for flavor {flavor!r}") from None
