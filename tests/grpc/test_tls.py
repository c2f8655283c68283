"""gRPC over TLS: an https server address means TLS on its gRPC port, with the HTTP settings.

A TLS-terminating proxy in front of the dev server's gRPC port plays the TLS server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from nacos_async import NacosClient
from nacos_async.errors import NacosConnectionError
from nacos_async.testing import NacosDevServer

pytest.importorskip("grpclib")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def tls_proxy(target_port: int, context: ssl.SSLContext) -> AsyncIterator[int]:
    """A TLS listener whose connections are forwarded in plain text to ``target_port``."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        both = asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        tasks.add(both)  # type: ignore[arg-type]
        await both

    listener = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield listener.sockets[0].getsockname()[1]
    finally:
        listener.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await listener.wait_closed()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    context.set_alpn_protocols(["h2"])
    return context


async def test_an_https_address_means_tls_on_the_grpc_port_with_the_configured_ca(
    ca: trustme.CA, server_tls: ssl.SSLContext, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with NacosDevServer(auth=False) as server:
        server.publish_config("app", "over tls")
        async with tls_proxy(server.grpc_port, server_tls) as port:
            address = f"https://127.0.0.1:{port - 1000}"  # only its gRPC port is served
            async with NacosClient(address, transport="grpc", ca_file=str(ca_file)) as client:
                assert await client.config.get("app") == "over tls"
                [connection] = server.grpc.connections
                assert connection.labels["tls.enable"] == "true"


async def test_an_untrusted_certificate_is_refused(server_tls: ssl.SSLContext) -> None:
    async with NacosDevServer(auth=False) as server:
        async with tls_proxy(server.grpc_port, server_tls) as port:
            address = f"https://127.0.0.1:{port - 1000}"
            async with NacosClient(address, transport="grpc", max_attempts=1) as client:
                with pytest.raises(NacosConnectionError, match=r"(?i)certificate"):
                    await client.config.get("app")
        assert server.stats.grpc_requests == {}


async def test_mutual_tls_sends_the_client_certificate(
    ca: trustme.CA, server_tls: ssl.SSLContext, tmp_path: Path
) -> None:
    server_tls.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(server_tls)
    ca_file, cert_file = tmp_path / "ca.pem", tmp_path / "client.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ca.issue_cert("client@example.com").private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    async with NacosDevServer(auth=False) as server:
        server.publish_config("app", "mutual")
        async with tls_proxy(server.grpc_port, server_tls) as port:
            address = f"https://127.0.0.1:{port - 1000}"
            options = {"transport": "grpc", "ca_file": str(ca_file), "max_attempts": 1}
            async with NacosClient(address, **options) as plain:
                with pytest.raises(NacosConnectionError):
                    await plain.config.get("app")
            async with NacosClient(address, client_cert=str(cert_file), **options) as client:
                assert await client.config.get("app") == "mutual"
