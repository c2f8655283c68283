"""Auth over gRPC: the same token manager and auth policy as HTTP, on a long-lived connection."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from nacos_async import NacosAuthError, NacosClient, NacosPermissionError
from nacos_async.grpc.codec import Payload
from nacos_async.signing import hmac_sha1_base64
from nacos_async.testing import FakeClock, Flavor, NacosDevServer
from tests.grpc.helpers import eventually, grpc_client

pytest.importorskip("grpclib")

GUIDANCE = r"(?i)username.*password"


def record_headers(server: NacosDevServer, kind: str) -> list[dict[str, str]]:
    """Every ``Metadata.headers`` the server receives on unary requests of ``kind``."""
    seen: list[dict[str, str]] = []
    original = server.grpc.unary

    async def unary(peer: Any, payload: Payload) -> Payload:
        if payload.type == kind:
            seen.append(dict(payload.headers))
        return await original(peer, payload)

    server.grpc.unary = unary  # type: ignore[method-assign]
    return seen


async def test_every_request_carries_the_current_token_in_the_metadata_headers() -> None:
    async with NacosDevServer(flavor="3.3") as server:  # client auth on
        server.publish_config("app", "v1")
        headers = record_headers(server, "ConfigQueryRequest")
        async with grpc_client(server) as client:
            assert await client.config.get("app") == "v1"
        assert headers and all(h["accessToken"].startswith("eyJ") for h in headers)
        assert sum(server.stats.forbidden.values()) == 0
        assert server.stats.grpc_requests["ServerCheckRequest"] == 1  # never authenticated


@pytest.mark.parametrize("flavor", ["2.x", "3.3"])
@pytest.mark.parametrize("event", ["expired", "rotated"])
async def test_a_token_refused_mid_connection_under_1000_concurrent_gets(
    event: str, flavor: Flavor
) -> None:
    """0 errors surfaced, 1 login for the event, every get replayed at most once."""
    async with NacosDevServer(flavor=flavor) as server:
        server.publish_config("app", "v1")
        async with grpc_client(server, relogin_min_interval=0, request_timeout=30) as client:
            assert await client.config.get("app") == "v1"
            connection_id = client.health().services["grpc-config"]["connection_id"]
            if event == "expired":
                server.expire_tokens()
            else:
                server.rotate_secret()
            results = await asyncio.gather(
                *(client.config.get("app") for _ in range(1000)), return_exceptions=True
            )
            errors = [r for r in results if r != "v1"]
            assert errors == []
            stats = client.stats
            assert stats.logins == 2 and stats.forced_logins == 1
            assert stats.auth_errors == 0 and 1 <= stats.replays <= 1000
            # the connection survived: a token refusal never closes it
            assert client.health().services["grpc-config"]["connection_id"] == connection_id
        refusal = "token expired" if event == "expired" else "Invalid signature"
        assert any(refusal in message for message in server.stats.forbidden)


async def test_authorization_failed_is_a_permission_error_at_once() -> None:
    async with NacosDevServer(flavor="3.3") as server:
        server.add_user("reader", "pw", permissions=[("public:*:config/other", "r")])
        server.publish_config("app", "v1")
        async with grpc_client(server, username="reader", password="pw") as client:
            with pytest.raises(NacosPermissionError) as info:
                await client.config.get("app")
            assert info.value.path == "ConfigQueryRequest" and info.value.code == 403
            assert client.stats.logins == 1 and client.stats.replays == 0


async def test_without_credentials_a_refusal_says_what_to_configure() -> None:
    async with NacosDevServer(flavor="3.3") as server:
        async with NacosClient(server.address, transport="grpc") as client:
            with pytest.raises(NacosAuthError, match=GUIDANCE):
                await client.config.get("app")


async def test_without_client_auth_every_config_call_works_without_credentials() -> None:
    """Over gRPC there is no admin API: publish and delete need a token only with auth on."""
    async with NacosDevServer(flavor="3.2", auth=False) as server:
        async with NacosClient(server.address, transport="grpc") as client:
            await client.config.publish("app.yaml", "a: 1", type="yaml")
            assert server.get_config("app.yaml") == "a: 1"
            await client.config.delete("app.yaml")
            assert server.get_config("app.yaml") is None


async def test_the_background_renewal_keeps_a_long_lived_connection_valid() -> None:
    wall = [1_000_000.0]
    clock = FakeClock()
    async with NacosDevServer(flavor="3.3", token_ttl=100, wall_time=lambda: wall[0]) as server:
        server.publish_config("app", "v1")
        async with grpc_client(server, clock=clock) as client:
            assert await client.config.get("app") == "v1"
            connection_id = client.health().services["grpc-config"]["connection_id"]
            await clock.settle()
            wall[0] += 94  # time passes for both, past the renewal point (ttl - [ttl/15, ttl/10])
            await clock.advance(94)
            await eventually(lambda: client.stats.logins == 2)
            wall[0] += 7  # the first token has expired on the server; the renewed one has not
            assert await client.config.get("app") == "v1"
            assert client.stats.replays == 0 and sum(server.stats.forbidden.values()) == 0
            assert client.health().services["grpc-config"]["connection_id"] == connection_id


async def test_access_key_signing_headers_ride_in_the_metadata() -> None:
    async with NacosDevServer(auth=False) as server:
        server.publish_config("app", "v1", group="G", namespace="team")
        headers = record_headers(server, "ConfigQueryRequest")
        async with grpc_client(server, access_key="AK", secret_key="SK") as client:
            assert await client.config.get("app", group="G", namespace="team") == "v1"
            assert await client.config.get("app", default=None) is None
        signed, public = headers
        assert signed["Spas-AccessKey"] == "AK" and re.fullmatch(r"\d{13}", signed["Timestamp"])
        assert signed["Spas-Signature"] == hmac_sha1_base64("SK", f"team+G+{signed['Timestamp']}")
        expected = hmac_sha1_base64("SK", f"DEFAULT_GROUP+{public['Timestamp']}")
        assert public["Spas-Signature"] == expected
