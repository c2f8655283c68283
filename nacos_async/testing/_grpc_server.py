"""The wire: a grpclib server for ``/Request/request`` and ``/BiRequestStream/requestBiStream``.

Everything Nacos-specific happens in its ``WireHandler`` (the gRPC side); this module moves
``Payload``s and owns the TCP connections, so that faults can end a stream with OK, reset it,
or abort the connection. It is the only testing module that imports grpclib.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any, Protocol

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.protocol import H2Protocol
from grpclib.server import Server, Stream

from nacos_async.errors import NacosProtocolError
from nacos_async.grpc._grpclib import PayloadCodec
from nacos_async.grpc.codec import Payload, PayloadTooLargeError
from nacos_async.testing._grpc_connections import EndHow, Peer, StreamControl

logger = logging.getLogger("nacos_async.testing.grpc")
_CLOSE_WAIT = 5.0  # bound on waiting for handler tasks after the connections are aborted

PayloadStream = Stream[Payload, Payload]


class WireHandler(Protocol):
    """What the wire hands its messages and connection events to."""

    async def unary(self, peer: Peer, payload: Payload) -> Payload:
        """The answer to one ``/Request/request`` call."""
        ...

    async def stream_message(self, peer: Peer, payload: Payload, stream: StreamControl) -> None:
        """One message from the client on its bi-stream."""
        ...

    def stream_closed(self, peer: Peer, stream: StreamControl) -> None: ...
    def connection_lost(self, peer: Peer) -> None: ...


def _peer(stream: PayloadStream) -> Peer:
    addr = stream.peer.addr()
    return (str(addr[0]), int(addr[1])) if addr else ("", 0)


async def _receive(stream: PayloadStream) -> Payload | None:
    """The next message; codec failures become the gRPC status a Java server would send."""
    try:
        return await stream.recv_message()
    except PayloadTooLargeError as exc:
        raise GRPCError(Status.RESOURCE_EXHAUSTED, str(exc)) from None
    except NacosProtocolError as exc:
        raise GRPCError(Status.INTERNAL, str(exc)[:200]) from None


class _StreamControl:
    """A connection's handle on its bi-stream: serialised sends and a requested end."""

    def __init__(self, stream: PayloadStream, wire: GrpcWire, peer: Peer) -> None:
        self._stream = stream
        self._wire = wire
        self._peer = peer
        self._lock = asyncio.Lock()
        self.ending: asyncio.Future[EndHow] = asyncio.get_running_loop().create_future()

    async def send(self, payload: Payload) -> bool:
        if self.ending.done():
            return False
        async with self._lock:  # one message's frames must not interleave with another's
            try:
                await self._stream.send_message(payload)
            except Exception as exc:  # the stream or connection is already gone
                logger.debug("send %s to %s:%s failed: %r", payload.type, *self._peer, exc)
                return False
        return True

    def end(self, how: EndHow) -> None:
        if how == "abort":
            self._wire.abort(self._peer)
        if not self.ending.done():
            self.ending.set_result(how)


class _TrackedProtocol(asyncio.Protocol):
    """grpclib's HTTP/2 protocol, plus a record of the transport by peer (to end it)."""

    def __init__(self, inner: H2Protocol, wire: GrpcWire) -> None:
        self._inner = inner
        self._wire = wire
        self._peer: Peer = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # as Nacos (netty) does; asyncio skips it for our proto-0 socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        addr = transport.get_extra_info("peername")
        self._peer = (str(addr[0]), int(addr[1])) if addr else ("", 0)
        self._wire.transports[self._peer] = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._wire.transports.pop(self._peer, None)
        self._inner.connection_lost(exc)
        self._wire.handler.connection_lost(self._peer)


class GrpcWire:
    """One listening socket and its HTTP/2 connections, serving the two Nacos methods."""

    def __init__(self, handler: WireHandler) -> None:
        self.handler = handler
        self.transports: dict[Peer, asyncio.BaseTransport] = {}
        self._grpclib = Server([self], codec=PayloadCodec())
        self._listener: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.port = 0

    def __mapping__(self) -> dict[str, Handler]:
        return {
            "/Request/request": Handler(self._unary, Cardinality.UNARY_UNARY, Payload, Payload),
            "/BiRequestStream/requestBiStream": Handler(
                self._bi_stream, Cardinality.STREAM_STREAM, Payload, Payload
            ),
        }

    async def listen(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.setblocking(False)
            self._listener = await asyncio.get_running_loop().create_server(
                self._protocol, sock=sock
            )
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]

    def _protocol(self) -> asyncio.Protocol:
        # grpclib builds its per-connection protocol here (the one private call we make).
        return _TrackedProtocol(self._grpclib._protocol_factory(), self)

    def abort(self, peer: Peer) -> None:
        transport = self.transports.get(peer)
        if transport is not None:
            transport.abort()  # type: ignore[attr-defined]

    def abort_all(self) -> int:
        peers = list(self.transports)
        for peer in peers:
            self.abort(peer)
        return len(peers)

    async def close(self) -> None:
        """Stop listening, abort every connection and wait for the handlers to finish."""
        if self._listener is not None:
            self._listener.close()
        self.abort_all()
        handlers = list(self._handlers)
        if handlers:
            await asyncio.wait(handlers, timeout=_CLOSE_WAIT)
        if self._listener is not None:
            await self._listener.wait_closed()

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _unary(self, stream: PayloadStream) -> None:
        self._track()
        request = await _receive(stream)
        if request is None:
            raise GRPCError(Status.INTERNAL, "no request message")
        await stream.send_message(await self.handler.unary(_peer(stream), request))

    async def _bi_stream(self, stream: PayloadStream) -> None:
        self._track()
        peer = _peer(stream)
        control = _StreamControl(stream, self, peer)
        reader = asyncio.get_running_loop().create_task(self._read(stream, peer, control))
        waiting: set[asyncio.Future[Any]] = {reader, control.ending}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            self.handler.stream_closed(peer, control)
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            raise reader.exception()  # type: ignore[misc]  # a GRPCError for a bad message
        how = control.ending.result() if control.ending.done() else None
        if how == "ok":  # as Nacos' GrpcConnection.close(): complete the call, close TCP
            await stream.send_trailing_metadata()
            transport = self.transports.get(peer)
            if transport is not None:
                transport.close()
        elif how == "reset":
            await stream.cancel()
        # how is None: the client ended its side; returning ends ours with OK

    async def _read(self, stream: PayloadStream, peer: Peer, control: _StreamControl) -> None:
        while (payload := await _receive(stream)) is not None:
            await self.handler.stream_message(peer, payload, control)
