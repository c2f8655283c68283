"""Snapshots and the failover directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nacos_async import NacosClient, NacosConnectionError
from nacos_async.config.models import ConfigKey
from nacos_async.config.snapshot import ConfigFiles
from nacos_async.testing import NacosDevServer


async def test_the_snapshot_is_served_when_no_server_answers(tmp_path: Path) -> None:
    async with NacosDevServer() as server:
        client = NacosClient(server.address, username="nacos", password="nacos", transport="http",
                             snapshot_dir=str(tmp_path), retry_backoff=0.01, request_timeout=1)  # fmt: skip
        async with client:
            await client.config.publish("app", "from the server")
            assert (await client.config.get_with_meta("app")).source == "server"
            await server.pause()
            item = await client.config.get_with_meta("app")
            assert (item.content, item.source) == ("from the server", "snapshot")
            assert client.stats.retries > 0
            with pytest.raises(NacosConnectionError):  # never read: no snapshot to serve
                await client.config.get("other")
            await server.resume()
    assert (tmp_path / "public" / "DEFAULT_GROUP" / "app").read_text() == "from the server"


async def test_nothing_is_written_without_a_snapshot_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with (
        NacosDevServer() as server,
        NacosClient(server.address, username="nacos", password="nacos") as client,
    ):
        await client.config.publish("app", "x")
        await client.config.get("app")
    assert list(tmp_path.iterdir()) == []


async def test_the_failover_directory_wins_over_the_server(tmp_path: Path) -> None:
    local = tmp_path / "failover" / "public" / "DEFAULT_GROUP"
    local.mkdir(parents=True)
    (local / "app").write_text("operator's value")
    async with NacosDevServer() as server:
        async with NacosClient(server.address, username="nacos", password="nacos",
                               failover_dir=str(tmp_path / "failover")) as client:  # fmt: skip
            await client.config.publish("app", "server value")
            item = await client.config.get_with_meta("app")
            assert (item.content, item.source) == ("operator's value", "failover")
            assert await client.config.get("other", default="none") == "none"


def test_a_crash_between_write_and_rename_leaves_the_old_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = ConfigFiles(tmp_path)
    key = ConfigKey("public", "G", "app")
    files.write(key, "old")

    def crash(*_: object) -> None:
        raise OSError("power cut before rename")

    monkeypatch.setattr(os, "replace", crash)
    files.write(key, "new")  # logged, not raised: a snapshot is a best effort
    assert files.read(key) == "old"
    assert [p.name for p in (tmp_path / "public" / "G").iterdir()] == ["app"]  # no temp left
