"""Naming over gRPC (NACOS_GRPC.md §5): connection-bound instances, queries, pushed watches.

- Ephemeral instances belong to the connection: no heartbeats, and the server drops them when
  the connection ends (a killed process leaves nothing behind); Distro syncs them across a
  cluster. The server holds one publication per service per connection (the last wins), so
  this backend keeps the client's instances per service and always sends the whole set:
  ``InstanceRequest`` for one, ``BatchInstanceRequest`` for several, ``deregisterInstance`` when
  the last one goes (the Java and Python clients also deregister from a batch by registering the
  rest). Changes to one service are sent one at a time, in order; changes made while a send is
  under way go out together in the next one.
- Redo: after every new connection (a server restart, a ConnectReset, a lost network) every
  service's set is registered again and every watched service subscribed again, at once: the
  channel's connection listener wakes one supervised loop, which retries with backoff if the
  redo fails. Changes made while disconnected are kept and sent then; a set emptied meanwhile is
  not sent at all (the server dropped it with the old connection).
- Persistent instances go over ``PersistentInstanceRequest`` where the server's SetupAck says
  ``supportPersistentInstanceByGrpc`` (2.3+), else over HTTP, as the Java client does; they
  outlive the connection and need no redo. ``update`` of one of this client's ephemeral
  instances registers it again with the new attributes (over gRPC that replaces it, as the
  Python client does); any other instance is updated over HTTP, as Java's maintainer client
  does, and deregistered over HTTP (a gRPC one can only leave with its own connection).
- Watches: one ``SubscribeServiceRequest`` per service, for all its clusters (blank ``clusters``
  means all on the server, and a connection holds one subscription per service, so the clusters
  of each watch are filtered here). Its answer is the current list; then the server pushes
  ``NotifySubscriberRequest`` on every change (acked by the connection). Pushes only feed
  ``next_instances``: the watcher diffs them and keeps push-empty protection.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from nacos_async._concurrent import run_all
from nacos_async._runtime import Runtime
from nacos_async.background import LoopHandle
from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosBadRequestError,
    NacosError,
    NacosProtocolError,
)
from nacos_async.grpc.answers import Answer
from nacos_async.grpc.channel import GrpcChannel
from nacos_async.naming.backend import NamingBackend, WatchKey
from nacos_async.naming.models import Instance, InstanceSpec

logger = logging.getLogger("nacos_async")

PUSH = "NotifySubscriberRequest"
PERSISTENT_BY_GRPC = "supportPersistentInstanceByGrpc"  # the server ability (SetupAck, 2.3+)
REGISTER, DEREGISTER, BATCH_REGISTER = (
    "registerInstance",
    "deregisterInstance",
    "batchRegisterInstance",
)
_REFUSED = (NacosBadRequestError, NacosAuthError, NacosApiUnavailableError)
"""Failures of the request itself: sending it again on another connection cannot help."""

ServiceRef = tuple[str, str]  # (group, service) in the client's namespace
InstanceKey = tuple[str, str, str, str, int]


@dataclass(eq=False)
class _Publication:
    """This client's ephemeral instances of one service, and what the server holds of them."""

    specs: dict[InstanceKey, InstanceSpec] = field(default_factory=dict)
    version: int = 0  # bumped by every change
    sent: int = 0  # the version the server took
    on: int = 0  # the generation of the connection that took it (0: none, or not known)
    removed: InstanceSpec | None = None  # the last one removed: the body of a deregister
    lock: anyio.Lock = field(default_factory=anyio.Lock)


@dataclass(eq=False)
class _Subscription:
    """One watched service: who watches it and the latest list the server gave."""

    keys: set[WatchKey] = field(default_factory=set)
    instances: list[Instance] = field(default_factory=list)
    version: int = 0  # bumped by every list taken (an answer or a push)
    ref_time: int = -1  # the server's lastRefTime of that list, on connection ``generation``
    generation: int = 0
    on: int = 0  # the generation of the connection subscribed (0: none, or not known)
    seen: dict[WatchKey, int] = field(default_factory=dict)  # version each key returned last
    changed: anyio.Event = field(default_factory=anyio.Event)
    lock: anyio.Lock = field(default_factory=anyio.Lock)


class GrpcNamingBackend:
    """``NamingBackend`` over one client's gRPC naming channel (``module=naming``)."""

    def __init__(self, runtime: Runtime, channel: GrpcChannel, http: NamingBackend) -> None:
        self._runtime = runtime
        self._channel = channel
        self._http = http  # persistent instances where gRPC cannot, others' updates
        self._published: dict[ServiceRef, _Publication] = {}
        self._subscribed: dict[ServiceRef, _Subscription] = {}
        self._stopped = False
        self._redo_loop: LoopHandle | None = None
        self._redo_wanted = anyio.Event()
        self._redone = 0  # the generation whose redo is complete
        self.last_redo: dict[str, Any] | None = None
        channel.on_push(PUSH, self._on_push)
        channel.add_listener(self._on_connected)

    @property
    def namespace(self) -> str:
        return self._runtime.settings.namespace

    # ----- health ------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The naming part: what this client holds registered and watched over gRPC."""
        pending = [
            _name(spec)
            for publication in self._published.values()
            if publication.sent != publication.version
            for spec in publication.specs.values()
        ]
        redo = self._redo_loop
        failing = pending and redo is not None and redo.failures > 0
        return {
            "transport": "grpc",
            "pending_registrations": pending,
            "problems": [f"{len(pending)} registration(s) not on the server: {redo.last_error}"]
            if failing and redo is not None
            else [],
        }

    def connection_health(self) -> dict[str, Any]:
        """What ``health()`` shows under ``grpc-naming`` beside the channel's state."""
        instances = sum(len(p.specs) for p in self._published.values())
        return {
            "instances": instances,
            "services": len([p for p in self._published.values() if p.specs]),
            "subscriptions": len(self._subscribed),
            "last_redo": dict(self.last_redo) if self.last_redo is not None else None,
        }

    def keeps(self, spec: InstanceSpec) -> bool:
        publication = self._published.get((spec.group, spec.service))
        return publication is not None and publication.specs.get(spec.key) is spec

    def stop(self) -> None:
        """No more redo (the client is closing); deregistrations still go out."""
        self._stopped = True
        if self._redo_loop is not None:
            self._redo_loop.cancel()
            self._redo_loop = None
        self._http.stop()

    # ----- registration -------------------------------------------------------------------------
    async def register(self, spec: InstanceSpec) -> None:
        if not spec.ephemeral:
            await self._persistent(REGISTER, spec)
            return
        publication = self._publication(spec)
        previous = publication.specs.get(spec.key)
        publication.specs[spec.key] = spec
        publication.version += 1
        version = publication.version
        try:
            await self._publish(publication, (spec.group, spec.service))
        except _REFUSED as exc:
            if publication.specs.get(spec.key) is spec:  # the server never took it: undo
                if previous is None:
                    del publication.specs[spec.key]
                else:
                    publication.specs[spec.key] = previous
                # back to the version before, unless another change came meanwhile
                publication.version += -1 if publication.version == version else 1
            if isinstance(exc, NacosApiUnavailableError) and exc.path == "BatchInstanceRequest":
                exc.add_note(
                    "Nacos before 2.1.1 holds one instance per service per gRPC connection: "
                    "register several over HTTP (transport='http')"
                )
            raise
        except NacosError as exc:
            if not self._stopped:
                note = (f"{_name(spec)} is kept: it is registered as soon as a gRPC connection "
                        "is up (deregister_instance drops it)")  # fmt: skip
                exc.add_note(note)
                logger.warning("registering %s failed (%s); %s", _name(spec), exc, note)
            raise

    async def deregister(self, spec: InstanceSpec) -> None:
        if not spec.ephemeral:
            await self._persistent(DEREGISTER, spec)
            return
        ref = (spec.group, spec.service)
        publication = self._published.get(ref)
        if publication is None or publication.specs.pop(spec.key, None) is None:
            # not this client's: nothing of it on our connection; an HTTP registration (of
            # another process) is removed over HTTP, a gRPC one belongs to its own connection
            await self._http.deregister(spec)
            return
        publication.removed = spec
        publication.version += 1
        connection = self._channel.connection_id
        if connection is None:
            return  # the server dropped it with the lost connection; redo sends the rest
        try:
            await self._publish(publication, ref)
        except NacosError:
            if self._channel.connection_id == connection:
                raise  # still connected: the server may hold it; the caller must know
            # the connection that held it is gone, and the server dropped it with it

    async def update(self, spec: InstanceSpec) -> None:
        publication = self._published.get((spec.group, spec.service))
        if spec.ephemeral and publication is not None and spec.key in publication.specs:
            await self.register(spec)  # over gRPC a registration again replaces it
        else:
            await self._http.update(spec)

    async def _request(self, kind: str, body: Mapping[str, Any], ref: ServiceRef) -> Answer:
        group, service = ref  # what an access-key signature covers: group@@service
        return await self._channel.request(
            kind, body, resource="naming", scope={"serviceName": service, "groupName": group}
        )

    def _mark(self) -> tuple[int, bool]:
        return self._channel.generation, self._channel.connection_id is not None

    def _served_on(self, mark: tuple[int, bool]) -> int:
        """The generation of the connection that answered a request started at ``mark``: the
        one current then, or else the next one if there was none; 0 when it cannot be told
        (a ConnectReset switched connections meanwhile: the redo sends it again)."""
        generation, connected = mark
        now = self._channel.generation
        return now if now == generation + (0 if connected else 1) else 0

    def _publication(self, spec: InstanceSpec) -> _Publication:
        ref = (spec.group, spec.service)
        publication = self._published.get(ref)
        if publication is None:
            publication = self._published[ref] = _Publication()
        return publication

    async def _publish(self, publication: _Publication, ref: ServiceRef) -> int | None:
        """Bring the server's set of ``ref`` on the current connection in line with ours;
        returns how many instances were sent (None: nothing needed sending)."""
        async with publication.lock:
            generation = self._channel.generation
            if publication.sent == publication.version and publication.on == generation > 0:
                return None  # already there (sent together with an earlier change)
            version, specs = publication.version, list(publication.specs.values())
            if not specs and publication.on != generation:
                publication.sent, publication.on = version, 0  # the connection holding it ended
                return None
            mark = self._mark()
            service, group = ref[1], ref[0]
            body: dict[str, Any] = {"namespace": self.namespace, "serviceName": service,
                                    "groupName": group}  # fmt: skip
            if len(specs) > 1:
                body |= {"type": BATCH_REGISTER, "instances": [_wire(s) for s in specs]}
                await self._request("BatchInstanceRequest", body, ref)
            else:
                instance = specs[0] if specs else publication.removed
                assert instance is not None
                body |= {"type": REGISTER if specs else DEREGISTER, "instance": _wire(instance)}
                await self._request("InstanceRequest", body, ref)
            publication.sent = version
            publication.on = self._served_on(mark)
            return len(specs)

    async def _persistent(self, kind: str, spec: InstanceSpec) -> None:
        """A persistent instance: over gRPC where the server supports it, else over HTTP."""
        if not (await self._channel.server_abilities()).get(PERSISTENT_BY_GRPC):
            if kind == REGISTER:
                await self._http.register(spec)
            else:
                await self._http.deregister(spec)
            return
        body = {"namespace": self.namespace, "serviceName": spec.service,
                "groupName": spec.group, "type": kind, "instance": _wire(spec)}  # fmt: skip
        await self._request("PersistentInstanceRequest", body, (spec.group, spec.service))

    # ----- queries -------------------------------------------------------------------------------
    async def list_instances(
        self, service: str, group: str, clusters: list[str], healthy_only: bool
    ) -> list[Instance]:
        body = {"namespace": self.namespace, "serviceName": service, "groupName": group,
                "cluster": ",".join(clusters), "healthyOnly": healthy_only}  # fmt: skip
        answer = await self._request("ServiceQueryRequest", body, (group, service))
        instances = _instances(answer, "ServiceQueryRequest")
        return [
            i
            for i in instances
            if i.enabled
            and (not clusters or i.cluster_name in clusters)
            and (i.healthy or not healthy_only)
        ]

    async def list_services(self, group: str, page: int, page_size: int) -> tuple[int, list[str]]:
        """``ServiceListRequest``: the server keeps exactly ``group`` and counts every match
        (Nacos 2.0.x counted the page only)."""
        body = {"namespace": self.namespace, "groupName": group, "serviceName": "",
                "pageNo": page, "pageSize": page_size}  # fmt: skip
        answer = await self._request("ServiceListRequest", body, (group, ""))
        count, names = answer.body.get("count"), answer.body.get("serviceNames")
        if names is None:
            names = []
        if isinstance(count, bool) or not isinstance(count, int) or not isinstance(names, list):
            raise _protocol_error(answer, "ServiceListRequest", "no 'count' and 'serviceNames'")
        return count, [str(name).rpartition("@@")[2] for name in names]

    # ----- watching ------------------------------------------------------------------------------
    async def next_instances(self, key: WatchKey, *, first: bool) -> list[Instance]:
        service, group, clusters = key
        ref = (group, service)
        subscription = self._subscribed.get(ref)
        if subscription is None:
            subscription = self._subscribed[ref] = _Subscription()
        subscription.keys.add(key)
        if first:
            await self._subscribe(ref, subscription)
        else:
            seen = subscription.seen.get(key, -1)
            while subscription.version == seen:  # until a push (or a redo's answer) comes
                await subscription.changed.wait()
        subscription.seen[key] = subscription.version
        wanted = set(clusters)
        return [
            i for i in subscription.instances
            if i.enabled and (not wanted or i.cluster_name in wanted)
        ]  # fmt: skip

    def _current(self, subscription: _Subscription) -> bool:
        """Subscribed on the connection in use: its pushes keep the list held up to date."""
        channel = self._channel
        return subscription.on == channel.generation > 0 and channel.connection_id is not None

    async def unwatch(self, key: WatchKey) -> None:
        service, group, _ = key
        ref = (group, service)
        subscription = self._subscribed.get(ref)
        if subscription is None:
            return
        subscription.keys.discard(key)
        subscription.seen.pop(key, None)
        if subscription.keys:
            return
        del self._subscribed[ref]
        if self._stopped or self._channel.connection_id is None:
            return  # closing, or no connection: the server forgets it with the connection
        body = _subscribe_body(self.namespace, ref, subscribe=False)
        try:
            await self._request("SubscribeServiceRequest", body, ref)
        except NacosError as exc:  # its only cost is pushes nobody reads
            logger.debug("unsubscribing %s@@%s failed: %s", group, service, exc)

    async def _subscribe(self, ref: ServiceRef, subscription: _Subscription) -> bool:
        """Subscribe the current connection to ``ref`` unless it is (the answer is the current
        list); returns whether a request was sent."""
        async with subscription.lock:
            if self._current(subscription) or self._subscribed.get(ref) is not subscription:
                return False  # done meanwhile, or nobody watches it any more
            mark = self._mark()
            body = _subscribe_body(self.namespace, ref, subscribe=True)
            answer = await self._request("SubscribeServiceRequest", body, ref)
            instances = _instances(answer, "SubscribeServiceRequest")
            subscription.on = self._served_on(mark)
            info = answer.body.get("serviceInfo")
            self._take(subscription, instances, _ref_time(info), force=True)
            return True

    def _on_push(self, body: dict[str, Any]) -> None:
        info = body.get("serviceInfo")
        if not isinstance(info, dict):
            return
        name, group = info.get("name"), info.get("groupName")
        if not isinstance(name, str) or not isinstance(group, str):
            return
        if "@@" in name:
            group, _, name = name.partition("@@")
        subscription = self._subscribed.get((group, name))
        hosts = info.get("hosts")
        if subscription is None or not isinstance(hosts, list):
            return  # not watched (any more), or an invalid push (Java drops those too)
        try:
            instances = [Instance.from_wire(host) for host in hosts]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            logger.warning("unreadable instance in a push for %s@@%s: %s", group, name, exc)
            return
        self._take(subscription, instances, _ref_time(info), force=False)

    def _take(
        self, subscription: _Subscription, instances: list[Instance], ref_time: int, *, force: bool
    ) -> None:
        """Hold ``instances`` as the latest list unless an answer already held is newer."""
        generation = self._channel.generation
        if not force and subscription.generation == generation and ref_time < subscription.ref_time:
            return  # an older list overtaken by a newer one on the same connection
        subscription.instances = instances
        subscription.ref_time, subscription.generation = ref_time, generation
        subscription.version += 1
        changed, subscription.changed = subscription.changed, anyio.Event()
        changed.set()

    # ----- redo ----------------------------------------------------------------------------------
    def _on_connected(self, generation: int) -> None:
        if self._stopped or not self._runtime.supervisor.running:
            return
        if self._redo_loop is None:
            self._redo_loop = self._runtime.supervisor.start_loop(
                "grpc-naming-redo", self._redo_step
            )
        self._redo_wanted.set()

    async def _redo_step(self) -> float:
        """Once per new connection: register every set and subscribe every watch again."""
        while self._redone >= self._channel.generation:
            self._redo_wanted = anyio.Event()
            await self._redo_wanted.wait()
        generation = self._channel.generation
        clock = self._runtime.clock
        started = clock.now()
        sent = {"instances": 0, "services": 0, "subscriptions": 0}

        async def publish(ref: ServiceRef, publication: _Publication) -> None:
            count = await self._publish(publication, ref)
            if count is not None:
                sent["instances"] += count
                sent["services"] += 1

        async def subscribe(ref: ServiceRef, subscription: _Subscription) -> None:
            sent["subscriptions"] += await self._subscribe(ref, subscription)

        await run_all(
            [functools.partial(publish, ref, p) for ref, p in list(self._published.items())]
            + [functools.partial(subscribe, ref, s) for ref, s in list(self._subscribed.items())]
        )
        self._redone = generation
        self.last_redo = {"generation": generation, **sent,
                          "took": round(clock.now() - started, 4)}  # fmt: skip
        self._runtime.events.emit("grpc_redo", module="naming", **self.last_redo)
        return 0.0


def _wire(spec: InstanceSpec) -> dict[str, Any]:
    """The ``Instance`` JSON of a registration (``clusterName`` blank would mean ``DEFAULT``)."""
    return {
        "ip": spec.ip,
        "port": spec.port,
        "weight": spec.weight,
        "healthy": spec.healthy,
        "enabled": spec.enabled,
        "ephemeral": spec.ephemeral,
        "clusterName": spec.cluster,
        "metadata": dict(spec.metadata),
    }


def _subscribe_body(namespace: str, ref: ServiceRef, *, subscribe: bool) -> dict[str, Any]:
    group, service = ref
    return {"namespace": namespace, "serviceName": service, "groupName": group, "clusters": "",
            "subscribe": subscribe}  # fmt: skip


def _instances(answer: Answer, request: str) -> list[Instance]:
    """The hosts of an answer's ``serviceInfo``; ``NacosProtocolError`` when unreadable."""
    info = answer.body.get("serviceInfo")
    hosts = info.get("hosts") if isinstance(info, dict) else None
    if not isinstance(hosts, list):
        raise _protocol_error(answer, request, "no 'serviceInfo' with a 'hosts' list")
    try:
        return [Instance.from_wire(host) for host in hosts]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _protocol_error(
            answer, request, f"unreadable instance: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None


def _ref_time(info: object) -> int:
    value = info.get("lastRefTime") if isinstance(info, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _protocol_error(answer: Answer, request: str, what: str) -> NacosProtocolError:
    return NacosProtocolError(
        f"{answer.type} has {what}", method="gRPC", path=request, server=answer.server or None
    )


def _name(spec: InstanceSpec) -> str:
    return f"{spec.group}@@{spec.service} {spec.ip}:{spec.port}"
