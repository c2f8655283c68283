"""Call services by name, as Spring Cloud's load-balanced clients do: ``GET http://orders/x``.

``ServiceSession`` is a thin aiohttp wrapper. The URL's host names a Nacos service; each call
goes to a healthy instance drawn by weight from a list the client watches (no Nacos request
per call). An instance that cannot be connected to is set aside for ``cooldown`` seconds and
the call tries another one; a request that may have reached the instance (the connection
broke after sending) is tried again only for idempotent methods. The answer is aiohttp's own
``ClientResponse``, whatever its status.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Generator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import aiohttp
from yarl import URL

from nacos_async.clock import SYSTEM_CLOCK, Clock
from nacos_async.errors import (
    NacosNotFoundError,
    NacosServiceUnavailableError,
    NacosTimeoutError,
)
from nacos_async.names import DEFAULT_GROUP
from nacos_async.naming import Instance
from nacos_async.naming.select import weighted_choice

if TYPE_CHECKING:
    from nacos_async.client import NacosClient

logger = logging.getLogger("nacos_async")

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_NOT_SENT: tuple[type[Exception], ...] = (  # no byte was sent: safe to try another instance
    aiohttp.ClientConnectorError,
    *((aiohttp.ConnectionTimeoutError,) if hasattr(aiohttp, "ConnectionTimeoutError") else ()),
)


class _Watched:
    """One service's instance list, kept current by a watch the session owns."""

    def __init__(self, instances: list[Instance]) -> None:
        self.instances = instances


class ServiceSession:
    """An aiohttp session whose URLs name services: ``session.get("http://orders/api/x")``.

    Use ``async with ServiceSession(nacos) as http:`` inside the client's ``async with``. A
    ``session`` given by the caller is used and never closed (its base URL must be unset).
    """

    def __init__(
        self,
        nacos: NacosClient,
        *,
        session: aiohttp.ClientSession | None = None,
        group: str = DEFAULT_GROUP,
        attempts: int = 3,
        cooldown: float = 30.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"attempts must be an integer >= 1, got {attempts!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int | float) or cooldown < 0:
            raise ValueError(f"cooldown must be >= 0 seconds, got {cooldown!r}")
        self._nacos = nacos
        self._given_session = session
        self._session: aiohttp.ClientSession | None = session
        self.group = group
        self.attempts = attempts
        self.cooldown = cooldown
        self._clock = clock or SYSTEM_CLOCK
        self._rng = rng or random.Random()
        self._services: dict[str, asyncio.Task[_Watched]] = {}
        self._watches: list[asyncio.Task[None]] = []
        self._set_aside: dict[tuple[str, int], float] = {}

    async def __aenter__(self) -> Self:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the watches; close the aiohttp session if this object made it."""
        tasks = [*self._services.values(), *self._watches]
        self._services.clear()
        self._watches.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None and self._given_session is None:
            await self._session.close()
        self._session = self._given_session

    def request(self, method: str, url: str | URL, **kwargs: Any) -> _Response:
        """Send ``method url`` to an instance of the service named by the URL's host; the
        other arguments are aiohttp's. Await it, or use it with ``async with``."""
        return _Response(self._send(method.upper(), URL(url), kwargs))

    def get(self, url: str | URL, **kwargs: Any) -> _Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str | URL, **kwargs: Any) -> _Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str | URL, **kwargs: Any) -> _Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str | URL, **kwargs: Any) -> _Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str | URL, **kwargs: Any) -> _Response:
        return self.request("DELETE", url, **kwargs)

    async def instances(self, service: str) -> list[Instance]:
        """The watched instance list of ``service`` (read from Nacos on first use)."""
        return list((await self._watched(service)).instances)

    async def _send(self, method: str, url: URL, kwargs: dict[str, Any]) -> aiohttp.ClientResponse:
        if self._session is None:
            raise RuntimeError("use `async with ServiceSession(nacos)` before sending")
        service = url.host
        if url.scheme not in ("http", "https") or not service or url.explicit_port is not None:
            raise ValueError(
                f"the URL must be http(s)://SERVICE/path with no port, got {str(url)[:100]!r}"
            )
        watched = await self._watched(service)
        tried: list[str] = []
        for _ in range(self.attempts):
            instance = self._pick(watched.instances, tried)
            if instance is None:
                break
            tried.append(instance.address)
            target = url.with_host(instance.ip).with_port(instance.port)
            try:
                return await self._session.request(method, target, **kwargs)
            except _NOT_SENT as exc:
                self._put_aside(instance, exc)
                error: Exception = exc
            except TimeoutError as exc:  # it may be working on it: never sent twice
                raise NacosTimeoutError(
                    f"{method} {url}: {instance.address} did not answer in time"
                ) from exc
            except aiohttp.ClientConnectionError as exc:
                self._put_aside(instance, exc)
                if method not in IDEMPOTENT:
                    raise NacosServiceUnavailableError(
                        f"{method} {url} failed at {instance.address} after it may have been "
                        f"sent, so it is not tried again ({type(exc).__name__}: {exc})"
                    ) from exc
                error = exc
        if not tried:
            raise NacosNotFoundError(f"no healthy instance of {self.group}@@{service} to call")
        raise NacosServiceUnavailableError(
            f"{method} {url}: no instance could be reached (tried {', '.join(tried)}; "
            f"last: {type(error).__name__}: {error})"
        ) from error

    def _pick(self, instances: Sequence[Instance], tried: list[str]) -> Instance | None:
        """A weighted draw among untried instances, preferring those not set aside."""
        if not tried and not self._set_aside:  # the common case, kept cheap
            return weighted_choice(instances, self._rng)
        now = self._clock.now()
        for key, until in list(self._set_aside.items()):
            if until <= now:
                del self._set_aside[key]
        untried = [i for i in instances if i.address not in tried]
        fresh = [i for i in untried if (i.ip, i.port) not in self._set_aside]
        return weighted_choice(fresh, self._rng) or weighted_choice(untried, self._rng)

    def _put_aside(self, instance: Instance, exc: Exception) -> None:
        logger.warning(
            "setting %s of %s aside for %g s: %s: %s",
            instance.address, instance.service_name or "service", self.cooldown,
            type(exc).__name__, exc,
        )  # fmt: skip
        self._set_aside[(instance.ip, instance.port)] = self._clock.now() + self.cooldown

    async def _watched(self, service: str) -> _Watched:
        task = self._services.get(service)
        if task is not None and task.done() and not task.cancelled() and not task.exception():
            return task.result()  # the common case: no await, no shield
        if task is None:  # the first caller reads the list; the others wait for the same read
            task = asyncio.create_task(self._start_watch(service))
            self._services[service] = task
        try:
            return await asyncio.shield(task)
        except BaseException:
            if task.done() and self._services.get(service) is task:
                del self._services[service]  # a failed first read is tried again next call
            raise

    async def _start_watch(self, service: str) -> _Watched:
        try:
            instances = await self._nacos.naming.list_instances(service, group=self.group)
        except NacosNotFoundError:
            instances = []
        watched = _Watched(instances)

        async def follow() -> None:
            async for hosts in self._nacos.naming.watch(service, group=self.group):
                watched.instances = hosts

        self._watches.append(asyncio.create_task(follow(), name=f"service-session:{service}"))
        return watched


class _Response:
    """What ``ServiceSession.request`` returns: awaitable, and an async context manager that
    releases the response, as aiohttp's own."""

    def __init__(self, sending: Awaitable[aiohttp.ClientResponse]) -> None:
        self._sending = sending
        self._response: aiohttp.ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, aiohttp.ClientResponse]:
        return self._sending.__await__()

    async def __aenter__(self) -> aiohttp.ClientResponse:
        self._response = await self._sending
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response.release()
