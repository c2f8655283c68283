"""The aiohttp and FastAPI integrations: start, register, serve a live typed config, deregister."""

import json
from typing import Annotated

import anyio
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import BaseModel

from nacos_async import NacosClient, NacosSettings
from nacos_async.integrations._common import LiveConfig, ServiceRegistration, local_ip_towards
from nacos_async.integrations.aiohttp import NACOS_CLIENT, setup_nacos
from nacos_async.testing import Flavor, NacosDevServer


class Greeting(BaseModel):
    text: str


def instances(server: NacosDevServer, service: str) -> list[tuple[str, int]]:
    for svc in server.naming.list_services("public", "DEFAULT_GROUP"):
        if svc.name == service:
            return sorted((i.ip, i.port) for i in svc.instances.values())
    return []


def settings_for(server: NacosDevServer) -> NacosSettings:
    return NacosSettings(server_addr=server.address, username="nacos", password="nacos")


@pytest.mark.parametrize("flavor", ["2.x", "3.2"])
async def test_aiohttp_app(flavor: Flavor) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        server.publish_config("greeting.json", json.dumps({"text": "hello"}), type="json")
        live = LiveConfig("greeting.json", Greeting)

        async def index(request: web.Request) -> web.Response:
            client = request.app[NACOS_CLIENT]
            assert isinstance(client, NacosClient)
            return web.json_response({"text": live.value.text})

        app = web.Application()
        app.router.add_get("/", index)
        setup_nacos(app, settings_for(server), register=ServiceRegistration("web", 8080, ip="127.0.0.1"),
                    configs=[live])  # fmt: skip
        async with TestClient(TestServer(app)) as http:
            assert instances(server, "web") == [("127.0.0.1", 8080)]
            assert (await (await http.get("/")).json()) == {"text": "hello"}
            server.publish_config("greeting.json", json.dumps({"text": "changed"}), type="json")
            with anyio.fail_after(10):
                while live.value.text != "changed":
                    await live.wait_for_update()
            assert (await (await http.get("/")).json()) == {"text": "changed"}
            invalid = anyio.Event()
            live.on_error(lambda error: invalid.set())
            server.publish_config("greeting.json", json.dumps({"wrong": 1}), type="json")
            with anyio.fail_after(10):
                await invalid.wait()
            assert live.value.text == "changed"  # a bad value never replaces the last good one
        assert instances(server, "web") == []


async def test_fastapi_app() -> None:
    fastapi = pytest.importorskip("fastapi")
    httpx = pytest.importorskip("httpx")
    from nacos_async.integrations.fastapi import NacosLifespan, live_config_dependency

    async with NacosDevServer(flavor="3.1") as server:
        server.publish_config("greeting.json", json.dumps({"text": "hello"}), type="json")
        live = LiveConfig("greeting.json", Greeting)
        nacos = NacosLifespan(settings_for(server), register=ServiceRegistration("api", 8000, ip="127.0.0.1"),
                              configs=[live])  # fmt: skip
        app = fastapi.FastAPI(lifespan=nacos)
        current = live_config_dependency(live)

        @app.get("/")  # type: ignore[untyped-decorator]
        async def index(
            greeting: Annotated[Greeting, fastapi.Depends(current)],
            client: Annotated[NacosClient, fastapi.Depends(nacos.client)],
        ) -> dict[str, str]:
            return {"text": greeting.text, "client": type(client).__name__}

        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                assert instances(server, "api") == [("127.0.0.1", 8000)]
                assert (await http.get("/")).json() == {"text": "hello", "client": "NacosClient"}
                server.publish_config("greeting.json", json.dumps({"text": "live"}), type="json")
                with anyio.fail_after(10):
                    while live.value.text != "live":
                        await live.wait_for_update()
                assert (await http.get("/")).json()["text"] == "live"
        assert instances(server, "api") == []


def test_local_ip_detection_needs_no_traffic() -> None:
    assert local_ip_towards("127.0.0.1") == "127.0.0.1"
    assert local_ip_towards("::1") == "::1"
