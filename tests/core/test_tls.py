"""TLS: verification on by default, a custom CA, and mutual TLS, against a local TLS server."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from nacos_async.client import NacosClient
from nacos_async.errors import NacosConnectionError


async def _metrics(_: web.Request) -> web.Response:
    return web.json_response({"status": "UP"})


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[tuple[int, ssl.SSLContext]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    app = web.Application()
    app.router.add_get("/nacos/v1/ns/operator/metrics", _metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield runner.addresses[0][1], context
    finally:
        await runner.cleanup()


async def test_an_untrusted_certificate_is_refused_by_default(
    tls_server: tuple[int, ssl.SSLContext],
) -> None:
    port, _ = tls_server
    async with NacosClient(f"https://127.0.0.1:{port}", max_attempts=1) as client:
        with pytest.raises(NacosConnectionError, match=r"(?i)certificate"):
            await client.request("GET", "/v1/ns/operator/metrics")


async def test_a_custom_ca_is_trusted(
    tls_server: tuple[int, ssl.SSLContext], ca: trustme.CA, tmp_path: Path
) -> None:
    port, _ = tls_server
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with NacosClient(f"https://127.0.0.1:{port}", ca_file=str(ca_file)) as client:
        response = await client.request("GET", "/v1/ns/operator/metrics")
    assert response.json() == {"status": "UP"}


async def test_mutual_tls_sends_the_client_certificate(
    tls_server: tuple[int, ssl.SSLContext], ca: trustme.CA, tmp_path: Path
) -> None:
    port, server_context = tls_server
    server_context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(server_context)
    ca_file, cert_file = tmp_path / "ca.pem", tmp_path / "client.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ca.issue_cert("client@example.com").private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    async with NacosClient(
        f"https://127.0.0.1:{port}", ca_file=str(ca_file), max_attempts=1
    ) as plain:
        with pytest.raises(NacosConnectionError):
            await plain.request("GET", "/v1/ns/operator/metrics")
    async with NacosClient(
        f"https://127.0.0.1:{port}", ca_file=str(ca_file), client_cert=str(cert_file)
    ) as client:
        response = await client.request("GET", "/v1/ns/operator/metrics")
    assert response.status == 200
