"""A raw Nacos gRPC client for the dev-server tests: grpclib plus our Payload codec.

It does what the protocol says and nothing more (no retries, no redo), so each test decides
every message; pushes are queued and acked automatically unless told otherwise.
"""

from __future__ import annotations

import asyncio
import itertools
from types import TracebackType
from typing import Any, Self

from grpclib.client import Channel, Stream, StreamStreamMethod, UnaryUnaryMethod

from nacos_async.grpc._grpclib import PayloadCodec
from nacos_async.grpc.codec import Payload, json_payload
from nacos_async.testing import FakeClock, NacosDevServer

WAIT = 5.0  # bound on every wait for the server (real seconds)


class RawClient:
    """One gRPC channel = one TCP connection = one Nacos connection once set up."""

    def __init__(
        self,
        server: NacosDevServer,
        *,
        module: str = "naming",
        token: str | None = None,
        auto_ack: bool = True,
    ) -> None:
        self.server = server
        self.module = module
        self.token = token
        self.auto_ack = auto_ack
        self.channel = Channel(server.host, server.grpc_port, codec=PayloadCodec())
        self._unary: UnaryUnaryMethod[Payload, Payload] = UnaryUnaryMethod(
            self.channel, "/Request/request", Payload, Payload
        )
        self._bidi: StreamStreamMethod[Payload, Payload] = StreamStreamMethod(
            self.channel, "/BiRequestStream/requestBiStream", Payload, Payload
        )
        self._ids = itertools.count(1)
        self.pushes: asyncio.Queue[Payload] = asyncio.Queue()
        self.stream: Stream[Payload, Payload] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.stream_error: BaseException | None = None
        self.stream_ended = asyncio.Event()
        self.connection_id = ""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Drop the TCP connection (the server sees the connection end)."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self.stream is not None:  # RST our stream (no waiting for the server's end)
            await asyncio.gather(self.stream.cancel(), return_exceptions=True)
        self.channel.close()

    # ----- unary ----------------------------------------------------------------------------------
    async def request(
        self,
        type_: str,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Send one unary request; returns (response type, response JSON)."""
        sent_headers = dict(headers or {})
        if self.token is not None and "accessToken" not in sent_headers:
            sent_headers["accessToken"] = self.token
        message = {"headers": {}, "requestId": str(next(self._ids)), **(body or {})}
        payload = json_payload(type_, message, headers=sent_headers, client_ip="127.0.0.1")
        reply = await self._unary(payload, timeout=WAIT)
        return reply.type, reply.json()

    async def ok(self, type_: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request that must succeed; returns the response JSON."""
        kind, answer = await self.request(type_, body)
        assert answer["resultCode"] == 200, (kind, answer)
        return answer

    # ----- connection -----------------------------------------------------------------------------
    async def server_check(self) -> dict[str, Any]:
        kind, answer = await self.request("ServerCheckRequest")
        assert kind == "ServerCheckResponse", answer
        self.connection_id = answer["connectionId"]
        return answer

    async def open_stream(self) -> None:
        self.stream = await self._bidi.open().__aenter__()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def setup(
        self,
        *,
        labels: dict[str, str] | None = None,
        ability_table: dict[str, bool] | None = None,
        tenant: str = "",
    ) -> None:
        assert self.stream is not None
        body: dict[str, Any] = {
            "headers": {},
            "clientVersion": "raw-test-client",
            "tenant": tenant,
            "labels": labels if labels is not None else {"source": "sdk", "module": self.module},
            "module": "internal",
        }
        if ability_table is not None:
            body["abilityTable"] = ability_table
        await self.stream.send_message(
            json_payload("ConnectionSetupRequest", body, client_ip="127.0.0.1")
        )

    async def connect(self) -> Self:
        """ServerCheck, bi-stream, setup with an ability table, and wait for SetupAck."""
        await self.server_check()
        await self.open_stream()
        await self.setup(ability_table={})
        ack = await self.next_push()
        assert ack.type == "SetupAckRequest", ack
        return self

    async def _read(self) -> None:
        assert self.stream is not None
        try:
            while (payload := await self.stream.recv_message()) is not None:
                await self.pushes.put(payload)
                request_id = payload.json().get("requestId")
                if self.auto_ack and request_id:
                    await self.ack(payload)
        except Exception as exc:  # a reset or dropped connection: the test inspects it
            self.stream_error = exc
        finally:
            self.stream_ended.set()

    async def ack(self, push: Payload, *, result_code: int = 200) -> None:
        assert self.stream is not None
        body = {"resultCode": result_code, "requestId": push.json()["requestId"]}
        await self.stream.send_message(json_payload("NotifySubscriberResponse", body))

    async def next_push(self, type_: str | None = None) -> Payload:
        """The next message the server sent on the stream (of ``type_``, skipping others)."""
        async with asyncio.timeout(WAIT):
            while True:
                payload = await self.pushes.get()
                if type_ is None or payload.type == type_:
                    return payload

    def no_push_queued(self) -> bool:
        return self.pushes.empty()


async def advance(clock: FakeClock, seconds: float) -> None:
    """Let the server reach its next clock wait (no real time passes), then move the clock."""
    await clock.settle()
    await clock.advance(seconds)


async def connected(server: NacosDevServer, **kwargs: Any) -> RawClient:
    """A set-up client (the caller closes it)."""
    client = RawClient(server, **kwargs)
    return await client.connect()
