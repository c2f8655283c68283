"""Which format a config is parsed in: ``format=``, else its type, else its dataId's extension."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from nacos_async import NacosClient
from nacos_async.config.models import format_of
from nacos_async.testing import NacosDevServer


class AppSettings(BaseModel):
    name: str
    port: int


@pytest.mark.parametrize(
    ("config_type", "data_id", "expected"),
    [
        ("json", "app", "json"),
        ("yml", "app", "yaml"),
        ("yaml", "app.json", "yaml"),  # a real type wins over the extension
        ("text", "app.json", "json"),
        ("text", "app.yaml", "yaml"),
        ("text", "app.YML", "yaml"),
        ("text", "com.example.app.properties", "properties"),
        ("", "app.toml", "toml"),
    ],
)
def test_type_then_extension(config_type: str, data_id: str, expected: str) -> None:
    assert format_of(config_type, data_id=data_id) == expected


def test_an_explicit_format_wins_and_is_checked() -> None:
    assert format_of("text", "json", data_id="app.yaml") == "json"
    assert format_of("xml", "yml") == "yaml"
    with pytest.raises(ValueError, match=r"format must be .* not 'xml'"):
        format_of("json", "xml")
    with pytest.raises(ValueError, match=r"not 'xxxxxxxx.*\.\.\.$"):
        format_of("json", "x" * 500)  # the bad value is named, cut short


@pytest.mark.parametrize(("config_type", "data_id"), [("text", "notes"), ("text", "app.txt"),
                                                      ("xml", "app.json"), ("html", None)])  # fmt: skip
def test_unparseable_configs_name_the_type_and_data_id(
    config_type: str, data_id: str | None
) -> None:
    with pytest.raises(ValueError, match=f"cannot parse a '{config_type}' config") as info:
        format_of(config_type, data_id=data_id)
    if data_id is not None:
        assert repr(data_id) in str(info.value)
    assert "format=" in str(info.value)


async def test_get_model_infers_the_format_of_a_text_config() -> None:
    async with NacosDevServer(auth=False) as server, NacosClient(server.address) as client:
        await client.config.publish("app.json", '{"name": "orders", "port": 8080}')  # type text
        model = await client.config.get_model("app.json", AppSettings)
    assert model == AppSettings(name="orders", port=8080)


async def test_watch_model_infers_the_format_of_a_text_config() -> None:
    async with NacosDevServer(auth=False) as server, NacosClient(server.address) as client:
        await client.config.publish("app.yaml", "name: orders\nport: 8080")  # type text
        models = client.config.watch_model("app.yaml", AppSettings, initial=True)
        first = await anext(models)
        await models.aclose()
    assert first == AppSettings(name="orders", port=8080)
