"""Store changes become pushes: a config or service change, made over either protocol, goes to
the gRPC connections listening to or subscribed to it, once per burst of changes.

Clients expect one push per change, not one per write of a batch; and HTTP writes must push
as well, which is why this hangs on the stores' change hooks rather than on the handlers.
"""

from __future__ import annotations

import asyncio

from nacos_async.testing import _grpc_config, _grpc_naming
from nacos_async.testing._config_store import ConfigKey, ConfigStore
from nacos_async.testing._grpc_connections import ConnectionRegistry
from nacos_async.testing._grpc_flavors import grpc_flavor
from nacos_async.testing._grpc_push import Pusher
from nacos_async.testing._naming_store import NamingStore, ServiceKey
from nacos_async.testing._state import DevState


class ChangeFanout:
    """Pushes the changes of one dev server's stores to its registered connections."""

    def __init__(self, state: DevState, registry: ConnectionRegistry, pusher: Pusher) -> None:
        self._state = state
        self._registry = registry
        self._pusher = pusher
        self._dirty_configs: set[ConfigKey] = set()
        self._dirty_services: set[ServiceKey] = set()
        self._flush_scheduled = False
        self._watched: tuple[ConfigStore, NamingStore] | None = None

    def watch(self) -> None:
        """Hear the stores the state holds now (when serving starts: a cluster gives its nodes
        one shared config store after building them)."""
        configs, naming = self._state.configs, self._state.naming
        configs.change_hooks.append(self._config_changed)
        naming.change_hooks.append(self._service_changed)
        self._watched = (configs, naming)

    def unwatch(self) -> None:
        if self._watched is not None:
            configs, naming = self._watched
            configs.change_hooks.remove(self._config_changed)
            naming.change_hooks.remove(self._service_changed)
            self._watched = None

    def _config_changed(self, key: ConfigKey) -> None:
        if self._registry:
            self._dirty_configs.add(key)
            self._schedule_flush()

    def _service_changed(self, key: ServiceKey) -> None:
        if self._registry:
            self._dirty_services.add(key)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Push once per burst: changes made in one step (a batch) give one push per key."""
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # changed outside any loop: no connection can be listening
            self._dirty_configs.clear()
            self._dirty_services.clear()
            return
        self._flush_scheduled = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        configs, self._dirty_configs = self._dirty_configs, set()
        services, self._dirty_services = self._dirty_services, set()
        flavor = grpc_flavor(self._state.flavor)
        naming = self._state.naming
        for connection in self._registry:
            for config_key in configs & connection.listens.keys():
                _grpc_config.push_change(self._pusher, flavor, connection, config_key)
            for service_key in services & connection.subscriptions.keys():
                _grpc_naming.push_service(naming, self._pusher, connection, service_key)
