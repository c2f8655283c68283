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


async def test_a_slow_read_never_puts_back_an_older_value(tmp_path: Path) -> None:
    """A get() that read the old value answers after a later read stored the new one: the
    snapshot keeps the new one (it is what an outage must serve)."""
    import asyncio
    import hashlib

    from nacos_async.testing import HttpRequest, MockTransport, answer

    values = ["old"]
    slow_gate = asyncio.Event()
    calls = 0

    async def server(request: HttpRequest) -> object:
        nonlocal calls
        calls += 1
        content = values[-1]
        if calls == 1:  # the first read is slow: it read "old" and answers late
            await slow_gate.wait()
        md5 = hashlib.md5(content.encode()).hexdigest()
        return answer(json={"code": 0, "data": {"content": content, "md5": md5}})

    client = NacosClient("nacos.test:8848", snapshot_dir=str(tmp_path),
                         transport=MockTransport(server))  # type: ignore[arg-type]  # fmt: skip
    async with client:
        slow = asyncio.create_task(client.config.get("app"))
        await asyncio.sleep(0)
        values.append("new")
        assert await client.config.get("app") == "new"  # a later read, stored
        slow_gate.set()
        assert await slow == "old"  # answered late
    assert (tmp_path / "public" / "DEFAULT_GROUP" / "app").read_text() == "new"


async def test_temporary_files_left_by_a_crash_are_removed_on_start(tmp_path: Path) -> None:
    folder = tmp_path / "public" / "DEFAULT_GROUP"
    folder.mkdir(parents=True)
    (folder / ".app.x1y2.tmp").write_text("half written")
    (folder / "app").write_text("kept")
    async with NacosDevServer() as server:
        async with NacosClient(server.address, username="nacos", password="nacos",
                               snapshot_dir=str(tmp_path)) as client:  # fmt: skip
            _ = client.config  # the snapshot directory is opened with the config service
    assert sorted(p.name for p in folder.iterdir()) == ["app"]
