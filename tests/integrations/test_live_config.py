"""``LiveConfig`` on its own (as a worker uses it): format inference, callbacks, error state."""

from __future__ import annotations

import json

import anyio
import pytest
from pydantic import BaseModel

from nacos_async import NacosClient, NacosConfigParseError, NacosError, NacosNotFoundError
from nacos_async.integrations.live_config import LiveConfig
from nacos_async.testing import NacosDevServer


class AppSettings(BaseModel):
    name: str
    port: int


@pytest.mark.parametrize(
    ("data_id", "content"),
    [
        ("app.json", '{"name": "orders", "port": 8080}'),
        ("app.yml", "name: orders\nport: 8080\n"),
        ("app.properties", "name=orders\nport=8080\n"),
        ("app.toml", 'name = "orders"\nport = 8080\n'),
    ],
)
async def test_a_config_published_without_a_type_parses_by_its_extension(
    data_id: str, content: str
) -> None:
    async with NacosDevServer(auth=False) as server, NacosClient(server.address) as client:
        await client.config.publish(data_id, content)  # stored as "text", as the CLI does
        live = LiveConfig(data_id, AppSettings)
        await live.start(client)
        assert live.value == AppSettings(name="orders", port=8080)
        await live.stop()


async def test_format_argument() -> None:
    async with NacosDevServer(auth=False) as server, NacosClient(server.address) as client:
        await client.config.publish("settings", "name: orders\nport: 8080\n")
        with pytest.raises(ValueError, match="cannot parse a 'text' config 'settings'"):
            await LiveConfig("settings", AppSettings).start(client)
        live = LiveConfig("settings", AppSettings, format="yaml")
        await live.start(client)
        assert live.value.port == 8080
        await live.stop()
    with pytest.raises(ValueError, match="not 'xml'"):
        LiveConfig("settings", AppSettings, format="xml")  # before any start-up


async def test_callbacks_error_state_and_the_last_good_value() -> None:
    seen_sync: list[AppSettings] = []
    send, events = anyio.create_memory_object_stream[AppSettings | NacosError](10)

    async def next_event() -> AppSettings | NacosError:
        with anyio.fail_after(10):
            return await events.receive()

    async with (
        send,
        events,
        NacosDevServer(auth=False) as server,
        NacosClient(server.address) as client,
    ):
        server.publish_config("app.json", json.dumps({"name": "a", "port": 1}))
        live = LiveConfig("app.json", AppSettings)

        @live.on_change
        def broken(model: AppSettings) -> None:
            raise RuntimeError("a failing callback does not stop the others")

        live.on_change(seen_sync.append)

        @live.on_change
        async def forward(model: AppSettings) -> None:
            await send.send(model)

        live.on_error(send.send_nowait)
        await live.start(client)
        assert (live.value.name, live.error, live.updates) == ("a", None, 0)

        server.publish_config("app.json", json.dumps({"name": "b", "port": 2}))
        assert await next_event() == AppSettings(name="b", port=2)
        assert live.value.name == "b" and live.updates == 1

        server.publish_config("app.json", json.dumps({"name": "c"}))  # port missing
        error = await next_event()
        assert isinstance(error, NacosConfigParseError) and live.error is error
        assert "port" in str(error) and "error=NacosConfigParseError" in repr(live)
        assert live.value.name == "b" and live.updates == 1

        server.publish_config("app.json", json.dumps({"name": "d", "port": 4}))
        assert await next_event() == AppSettings(name="d", port=4)
        assert live.error is None

        await client.config.delete("app.json")
        error = await next_event()
        assert isinstance(error, NacosNotFoundError) and live.error is error
        assert live.value.name == "d"

        server.publish_config("app.json", json.dumps({"name": "e", "port": 5}))
        with anyio.fail_after(10):
            assert (await live.wait_for_update()).name == "e"
        await live.stop()
    assert [m.name for m in seen_sync] == ["b", "d", "e"]


async def test_start_fails_on_a_missing_or_invalid_config() -> None:
    async with NacosDevServer(auth=False) as server, NacosClient(server.address) as client:
        with pytest.raises(NacosNotFoundError):
            await LiveConfig("absent.json", AppSettings).start(client)
        server.publish_config("bad.json", "{not json")
        with pytest.raises(NacosConfigParseError, match="not valid json"):
            await LiveConfig("bad.json", AppSettings).start(client)


async def test_a_second_start_is_refused_and_stop_after_close_is_harmless() -> None:
    async with NacosDevServer(auth=False) as server:
        server.publish_config("app.json", json.dumps({"name": "a", "port": 1}))
        async with NacosClient(server.address) as client:
            live = LiveConfig("app.json", AppSettings)
            await live.start(client)
            with pytest.raises(RuntimeError, match="already started"):
                await live.start(client)
        await live.stop()  # after the client closed: nothing left to cancel, no error
        assert live.value.name == "a"
