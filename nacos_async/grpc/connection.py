"""One Nacos gRPC connection: one HTTP/2 connection to one server, for one module.

Nacos keys everything to the TCP connection (NACOS_GRPC.md §1.7), so unary requests and the
bi-stream share one grpclib ``Channel`` and a lost connection is never silently re-dialled.
Opening (§2.1): ``ServerCheckRequest``, the bi-stream, ``ConnectionSetupRequest`` (labels,
tenant, ability table), then the server's ``SetupAckRequest``. A reader task then answers what
the server sends on the stream: ``ClientDetectionRequest`` and every push are acked with the same
``requestId``, ``ConnectResetRequest`` is acked and reported, ``SetupAckRequest`` gets no reply.
A stream that ends in any way (completed with OK, reset, TCP lost) makes the connection lost:
the owner (``channel.py``) decides what happens next. Nothing here logs a header's value.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import anyio
from grpclib.client import Channel, Stream, StreamStreamMethod, UnaryUnaryMethod
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from nacos_async.clock import Clock, within
from nacos_async.errors import (
    NacosConnectionError,
    NacosError,
    NacosProtocolError,
    NacosTimeoutError,
)
from nacos_async.grpc._grpclib import PayloadCodec
from nacos_async.grpc.answers import ConnectionLostError, read_answer
from nacos_async.grpc.codec import MAX_MESSAGE_BYTES, Payload, json_payload
from nacos_async.servers import ServerAddress

logger = logging.getLogger("nacos_async")

UNARY = "/Request/request"
BI_STREAM = "/BiRequestStream/requestBiStream"
CLIENT_VERSION = "nacos-async"
SETUP_ACK_WAIT = 5.0  # the Java client's ability-negotiation wait
LEGACY_SETUP_PAUSE = 0.1  # a server without SetupAck (2.2.x) needs a moment to register us

PushHandler = Callable[[str, dict[str, Any]], bool]  # (type, body) -> handled (then acked)
ResetHandler = Callable[["GrpcConnection", str, str], None]  # (connection, serverIp, serverPort)
LostHandler = Callable[["GrpcConnection", str], None]  # (connection, why)
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]], str], "asyncio.Task[None]"]


class GrpcConnection:
    """A connection's lifecycle: ``open``, ``call``, the stream's reader, ``close``."""

    def __init__(
        self,
        server: ServerAddress,
        port: int,
        *,
        module: str,
        tenant: str,
        labels: Mapping[str, str],
        tls: ssl.SSLContext | None,
        clock: Clock,
        spawn: Spawn,
        on_push: PushHandler,
        on_reset: ResetHandler,
        on_lost: LostHandler,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.server = server
        self.port = port
        self.id = ""  # the server's connectionId, from ServerCheck
        self.client_ip = ""
        self.lost: str | None = None  # why the connection ended, once it has
        self._module = module
        self._tenant = tenant
        self._labels = dict(labels)
        self._clock = clock
        self._spawn = spawn
        self._on_push = on_push
        self._on_reset = on_reset
        self._on_lost = on_lost
        self.last_activity = clock.now()
        self._channel = Channel(server.host, port, codec=PayloadCodec(max_message_bytes), ssl=tls)
        self._unary: UnaryUnaryMethod[Payload, Payload] = UnaryUnaryMethod(
            self._channel, UNARY, Payload, Payload
        )
        self._bidi: StreamStreamMethod[Payload, Payload] = StreamStreamMethod(
            self._channel, BI_STREAM, Payload, Payload
        )
        self._stream: Stream[Payload, Payload] | None = None
        self._send_lock = asyncio.Lock()
        self._ready = anyio.Event()  # SetupAck came, or the connection was lost meanwhile
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"GrpcConnection({self.server.host}:{self.port}, id={self.id!r}, lost={self.lost!r})"

    @property
    def where(self) -> str:
        host = f"[{self.server.host}]" if ":" in self.server.host else self.server.host
        return f"{host}:{self.port}"

    # ----- opening -----------------------------------------------------------------------------
    async def open(self, timeout: float) -> None:
        """ServerCheck, bi-stream, setup, SetupAck; ``NacosConnectionError`` if any step fails."""
        deadline = self._clock.now() + timeout
        reply = await self.call(
            json_payload("ServerCheckRequest", {"headers": {}, "module": "internal"}), timeout
        )
        answer = read_answer(reply)
        if reply.type != "ServerCheckResponse" or not answer.ok:
            raise NacosConnectionError(
                "server check refused", method="gRPC", path="ServerCheckRequest",
                server=self.where, code=answer.error_code, server_message=answer.message or None,
            )  # fmt: skip
        connection_id = answer.body.get("connectionId")
        self.id = connection_id if isinstance(connection_id, str) else ""
        self.client_ip = _client_ip(self.id)
        try:
            stream = self._bidi.open()
            await stream.__aenter__()
            await stream.send_request()
        except Exception as exc:
            raise _network_error(exc, "BiRequestStream", self.where) from None
        self._stream = stream
        await self._send(self._setup_payload())
        self._reader = self._spawn(self._read, f"grpc-{self._module}-reader")
        if answer.body.get("supportAbilityNegotiation") is True:
            if not await within(self._clock, min(deadline, self._clock.now() + SETUP_ACK_WAIT),
                                self._ready.wait):  # fmt: skip
                raise NacosConnectionError(
                    "no SetupAck from the server", method="gRPC", path="ConnectionSetupRequest",
                    server=self.where,
                )  # fmt: skip
        else:
            await self._clock.sleep(LEGACY_SETUP_PAUSE)
        if self.lost is not None:
            raise ConnectionLostError(
                f"connection ended during setup: {self.lost}", method="gRPC",
                path="ConnectionSetupRequest", server=self.where,
            )  # fmt: skip

    def _setup_payload(self) -> Payload:
        body = {
            "headers": {},
            "clientVersion": CLIENT_VERSION,
            "tenant": self._tenant,
            "labels": self._labels,
            "abilityTable": {},  # non-null: the server answers with SetupAck (2.3+)
            "module": "internal",
        }
        return json_payload("ConnectionSetupRequest", body, client_ip=self.client_ip)

    # ----- unary -------------------------------------------------------------------------------
    async def call(self, payload: Payload, timeout: float) -> Payload:
        """One unary request on this connection; network failures are typed ``NacosError``s."""
        if self._closed:
            raise ConnectionLostError(
                f"connection closed: {self.lost or 'closed'}", method="gRPC", path=payload.type,
                server=self.where,
            )  # fmt: skip
        try:
            reply = await self._unary(payload, timeout=timeout)
        except NacosError:
            raise  # the codec's (a message over the size limit, a malformed Payload)
        except TimeoutError:
            raise NacosTimeoutError(
                f"no answer within {timeout:.3g}s", method="gRPC", path=payload.type,
                server=self.where,
            ) from None  # fmt: skip
        except Exception as exc:
            raise _network_error(exc, payload.type, self.where) from None
        self.last_activity = self._clock.now()
        return reply

    # ----- the stream --------------------------------------------------------------------------
    async def _send(self, payload: Payload) -> None:
        stream = self._stream
        assert stream is not None
        try:
            async with self._send_lock:  # one message's frames never interleave with another's
                await stream.send_message(payload)
        except Exception as exc:
            raise _network_error(exc, payload.type, self.where) from None

    async def _read(self) -> None:
        stream = self._stream
        assert stream is not None
        try:
            while (payload := await stream.recv_message()) is not None:
                self.last_activity = self._clock.now()
                await self._dispatch(payload)
        except asyncio.CancelledError:  # closed by us (or the client stops): nothing to report
            self.lost = self.lost or "closed"
            self._ready.set()
            raise
        except Exception as exc:
            self._end(f"stream failed: {_describe(exc)}")
        else:
            self._end("the server ended the stream")

    async def _dispatch(self, payload: Payload) -> None:
        kind = payload.type
        try:
            body = payload.json()
        except NacosProtocolError:
            logger.debug("unreadable %s on the gRPC stream from %s", kind, self.where)
            return
        request_id = body.get("requestId")
        if kind == "SetupAckRequest":  # no reply, as the Java client
            self._ready.set()
            return
        if kind == "ClientDetectionRequest":
            await self._ack("ClientDetectionResponse", request_id)
        elif kind == "ConnectResetRequest":
            await self._ack("ConnectResetResponse", request_id)
            self._on_reset(self, _text(body, "serverIp"), _text(body, "serverPort"))
        elif self._on_push(kind, body):
            await self._ack(kind.removesuffix("Request") + "Response", request_id)
        else:  # no handler: no reply, as the Java client
            logger.debug("no handler for %s from %s", kind, self.where)

    async def _ack(self, kind: str, request_id: object) -> None:
        if not isinstance(request_id, str) or not request_id:
            return
        body = {"resultCode": 200, "errorCode": 0, "requestId": request_id}
        try:
            await self._send(json_payload(kind, body))
        except NacosError as exc:  # the stream is going: the reader will see it end
            logger.debug("could not ack %s on %s: %s", kind, self.where, exc)

    def _end(self, why: str) -> None:
        if self.lost is not None:
            return
        self.lost = why
        self._ready.set()
        if not self._closed:
            self._on_lost(self, why)

    # ----- closing -----------------------------------------------------------------------------
    def close(self) -> None:
        """Drop the TCP connection (the server unregisters us); idempotent, from any task."""
        if self._closed:
            return
        self._closed = True
        if self.lost is None:
            self.lost = "closed"
        self._ready.set()
        reader = self._reader
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        self._channel.close()


async def server_check(
    server: ServerAddress, port: int, *, tls: ssl.SSLContext | None, timeout: float
) -> bool:
    """Whether a Nacos gRPC server answers ``ServerCheckRequest`` on ``port`` within ``timeout``.

    "Server is starting" counts as an answer: the port speaks Nacos gRPC.
    """
    channel = Channel(server.host, port, codec=PayloadCodec(), ssl=tls)
    method: UnaryUnaryMethod[Payload, Payload] = UnaryUnaryMethod(channel, UNARY, Payload, Payload)
    try:
        async with asyncio.timeout(timeout):
            reply = await method(
                json_payload("ServerCheckRequest", {"headers": {}, "module": "internal"}),
                timeout=timeout,
            )
        return reply.type in ("ServerCheckResponse", "ErrorResponse")
    except Exception:
        return False
    finally:
        channel.close()


def _client_ip(connection_id: str) -> str:
    """Our IP as the server sees it: ``connectionId`` is ``<ms>_<ip>_<port>`` (§1.7)."""
    parts = connection_id.split("_")
    return parts[1] if len(parts) == 3 else ""


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, GRPCError):
        return f"gRPC status {exc.status.name}" + (f": {exc.message[:200]}" if exc.message else "")
    text = str(exc)[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _network_error(exc: BaseException, request: str, where: str) -> NacosError:
    """A grpclib/h2/socket failure as the typed error a caller can act on."""
    if isinstance(exc, GRPCError) and exc.status is Status.RESOURCE_EXHAUSTED:
        return NacosProtocolError(
            f"message too large: {_describe(exc)}", method="gRPC", path=request, server=where
        )
    if isinstance(exc, GRPCError) and exc.status is Status.DEADLINE_EXCEEDED:
        return NacosTimeoutError(_describe(exc), method="gRPC", path=request, server=where)
    return ConnectionLostError(
        f"connection failed: {_describe(exc)}", method="gRPC", path=request, server=where
    )


__all__ = ["GrpcConnection", "server_check"]
