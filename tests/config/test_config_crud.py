"""Config CRUD, CAS, types, namespaces and validation, per flavor, over the dev server."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from nacos_async import NacosClient, NacosConflictError, NacosNotFoundError
from nacos_async.config import NacosConfigParseError
from nacos_async.config.models import md5_hex, parse_properties
from nacos_async.testing import FLAVORS, Flavor, NacosDevServer

TRANSPORTS = ["http", "grpc"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_crud_cas_and_missing(flavor: Flavor, transport: str) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        async with NacosClient(
            server.address, username="nacos", password="nacos", transport=transport
        ) as client:
            assert client.health().transport == transport
            config = client.config
            with pytest.raises(NacosNotFoundError, match=r"'app\.yaml' not found"):
                await config.get("app.yaml")
            assert await config.get("app.yaml", default=None) is None
            await config.publish("app.yaml", "a: 1", type="yaml")
            item = await config.get_with_meta("app.yaml")
            assert (item.content, item.md5, item.type, item.source) == (
                "a: 1",
                md5_hex("a: 1"),
                "yaml",
                "server",
            )
            await config.publish("app.yaml", "a: 2", type="yaml", cas_md5=item.md5)
            assert await config.get("app.yaml") == "a: 2"
            with pytest.raises(NacosConflictError, match="compare-and-set"):
                await config.publish("app.yaml", "a: 3", type="yaml", cas_md5=item.md5)
            assert await config.get("app.yaml") == "a: 2"  # nothing lost, nothing overwritten
            await config.delete("app.yaml")
            await config.delete("app.yaml")  # deleting a missing config is not an error
            assert await config.get("app.yaml", default="gone") == "gone"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize(
    "config_type", ["text", "json", "yaml", "properties", "xml", "html", "toml"]
)
async def test_every_type_and_unicode_round_trips(
    flavor: Flavor, config_type: str, transport: str
) -> None:
    content = '名前 = "ナコス" # ünïcödé ✓ 🎉\nline2'
    async with NacosDevServer(flavor=flavor) as server:
        async with NacosClient(
            server.address, username="nacos", password="nacos", transport=transport
        ) as client:
            await client.config.publish("cfg", content, type=config_type, group="G1")
            item = await client.config.get_with_meta("cfg", group="G1")
    assert item.content == content and item.type == config_type and item.md5 == md5_hex(content)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("flavor", FLAVORS)
async def test_namespaces_are_separate(flavor: Flavor, transport: str) -> None:
    async with NacosDevServer(flavor=flavor) as server:
        async with NacosClient(
            server.address, username="nacos", password="nacos", namespace="dev",
            transport=transport,
        ) as client:  # fmt: skip
            await client.config.publish("app", "dev value")
            await client.config.publish("app", "prod value", namespace="prod")
            assert await client.config.get("app") == "dev value"
            assert await client.config.get("app", namespace="prod") == "prod value"
            assert await client.config.get("app", namespace="public", default=None) is None


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ({"data_id": ""}, "dataId must be a non-empty string"),
        ({"data_id": "bad id"}, "invalid dataId 'bad id'"),
        ({"data_id": "a/b"}, "invalid dataId 'a/b'"),
        ({"data_id": ".."}, "invalid dataId '..'"),
        ({"data_id": "x" * 257}, "invalid dataId"),
        ({"group": "bad group"}, "invalid group 'bad group'"),
        ({"namespace": "n" * 129}, "invalid namespace"),
        ({"content": ""}, "content must not be empty or blank"),
        ({"content": "   "}, "content must not be empty or blank"),
        ({"type": "yml"}, "unknown config type 'yml'"),
    ],
)
async def test_bad_input_is_refused_before_any_request(call: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"data_id": "app", "content": "x"} | call
    async with NacosDevServer(auth=False) as server:
        async with NacosClient(server.address) as client:
            stats = server.stats
            before = sum(stats.requests.values()) + sum(stats.grpc_requests.values())
            with pytest.raises(ValueError, match=match):
                await client.config.publish(args.pop("data_id"), args.pop("content"), **args)
            assert sum(stats.requests.values()) + sum(stats.grpc_requests.values()) == before


class AppSettings(BaseModel):
    name: str
    port: int
    debug: bool = False


@pytest.mark.parametrize(
    ("config_type", "content"),
    [
        ("json", '{"name": "orders", "port": 8080, "debug": true}'),
        ("yaml", "name: orders\nport: 8080\ndebug: true\n"),
        ("properties", "# comment\nname=orders\nport: 8080\ndebug = true\n"),
        ("toml", 'name = "orders"\nport = 8080\ndebug = true\n'),
    ],
)
async def test_models_parse_by_the_configs_type(config_type: str, content: str) -> None:
    async with NacosDevServer(auth=False) as server:
        async with NacosClient(server.address) as client:
            await client.config.publish("app", content, type=config_type)
            model = await client.config.get_model("app", AppSettings)
    assert model == AppSettings(name="orders", port=8080, debug=True)


async def test_invalid_content_is_a_parse_error_with_the_validation_errors() -> None:
    async with NacosDevServer(auth=False) as server:
        async with NacosClient(server.address) as client:
            await client.config.publish("app", '{"name": "orders", "port": "many"}', type="json")
            with pytest.raises(NacosConfigParseError, match="does not fit AppSettings") as info:
                await client.config.get_model("app", AppSettings)
            assert info.value.errors[0]["loc"] == ("port",)
            await client.config.publish("app", "{not json", type="json")
            with pytest.raises(NacosConfigParseError, match="not valid json"):
                await client.config.get_model("app", AppSettings)
            await client.config.publish("app", "plain words", type="text")
            with pytest.raises(ValueError, match="cannot parse a 'text' config"):
                await client.config.get_model("app", AppSettings)


def test_properties_parser() -> None:
    text = "a=1\n! bang comment\nb : two words\nc=multi\\\n  line\nd\n"
    assert parse_properties(text) == {"a": "1", "b": "two words", "c": "multiline", "d": ""}


async def test_a_huge_bad_value_is_quoted_cut_short() -> None:
    """A 1 MB dataId is named in the error, not echoed whole."""
    from nacos_async.testing import MockTransport, answer

    client = NacosClient("nacos.test:8848", transport=MockTransport(lambda _: answer()))
    huge = "x" * 1_000_000 + "/"
    async with client:
        for call in (
            lambda: client.config.get(huge),
            lambda: client.config.publish("ok", "x", group=huge),
            lambda: client.naming.register_instance(huge, "10.0.0.1", 80),
            lambda: client.naming.register_instance("svc", huge, 80),
        ):
            with pytest.raises(ValueError) as info:
                await call()
            assert len(str(info.value)) < 300, len(str(info.value))
