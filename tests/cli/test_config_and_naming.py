"""``nacos-async config ...`` and ``nacos-async naming ...`` against a dev server."""

from __future__ import annotations

import json
import threading
import time

import pytest

from nacos_async.cli import main
from nacos_async.cli._common import EXIT_CONFLICT, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE

from .conftest import ThreadedServer

AUTH = ["--username", "nacos", "--password", "nacos"]


def run(address: str, *argv: str) -> int:
    return main([*argv, "--server", address, *AUTH])


def test_config_publish_get_delete(server_address: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(server_address, "config", "publish", "app.yaml", "a: 1", "--type", "yaml") == EXIT_OK
    capsys.readouterr()
    assert run(server_address, "config", "get", "app.yaml") == EXIT_OK
    assert capsys.readouterr().out == "a: 1\n"
    assert run(server_address, "config", "get", "app.yaml", "--json") == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["type"] == "yaml" and data["content"] == "a: 1" and len(data["md5"]) == 32
    code = run(server_address, "config", "publish", "app.yaml", "a: 2", "--cas-md5", "0" * 32)
    assert code == EXIT_CONFLICT
    assert run(server_address, "config", "delete", "app.yaml") == EXIT_OK
    capsys.readouterr()
    assert run(server_address, "config", "get", "app.yaml", "--json") == EXIT_NOT_FOUND
    assert json.loads(capsys.readouterr().err)["error"] == "NacosNotFoundError"
    assert run(server_address, "config", "get", "bad id") == EXIT_USAGE


def test_config_watch_prints_a_change(
    threaded_server: ThreadedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    address = threaded_server.address
    run(address, "config", "publish", "w", "v0")
    result: list[int] = []
    watcher = threading.Thread(target=lambda: result.append(
        run(address, "config", "watch", "w", "--count", "1", "--json")))  # fmt: skip
    watcher.start()
    server = threaded_server.server
    assert server is not None
    deadline = time.monotonic() + 10
    while (
        not server.stats.requests.get("POST /v1/cs/configs/listener")
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)  # another thread: wait until the watch is listening
    capsys.readouterr()
    run(address, "config", "publish", "w", "v1")
    watcher.join(10)
    assert result == [EXIT_OK]
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert lines[-1]["content"] == "v1"


def test_naming_register_list_select(
    threaded_server: ThreadedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    address = threaded_server.address
    result: list[int] = []
    holder = threading.Thread(target=lambda: result.append(
        run(address, "naming", "register", "orders", "10.0.0.5", "8080", "--metadata", '{"v":"2"}', "--seconds", "3")))  # fmt: skip
    holder.start()
    deadline = time.monotonic() + 10
    hosts: list[dict[str, object]] = []
    while not hosts and time.monotonic() < deadline:
        capsys.readouterr()
        assert run(address, "naming", "list", "orders", "--json") == EXIT_OK
        out = capsys.readouterr().out  # the register thread prints here too
        hosts = next(json.loads(line) for line in out.splitlines() if '"instances"' in line)[
            "instances"
        ]
    assert hosts[0]["ip"] == "10.0.0.5" and hosts[0]["metadata"] == {"v": "2"}
    assert run(address, "naming", "select", "orders") == EXIT_OK
    assert "10.0.0.5:8080" in capsys.readouterr().out.splitlines()
    holder.join(10)
    assert result == [EXIT_OK]
    assert run(address, "naming", "select", "orders") == EXIT_NOT_FOUND  # deregistered on exit
    assert run(address, "naming", "register", "orders", "not-an-ip", "1") == EXIT_USAGE


def test_naming_deregister_and_services(
    server_address: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NACOS_DEREGISTER_ON_CLOSE", "false")  # leave it there on exit
    monkeypatch.setenv("NACOS_TRANSPORT", "http")  # over gRPC it leaves with its connection
    assert (
        run(server_address, "naming", "register", "pay", "10.0.0.9", "80", "--seconds", "0.01") == 0
    )
    monkeypatch.delenv("NACOS_DEREGISTER_ON_CLOSE")
    capsys.readouterr()
    assert run(server_address, "naming", "services", "--json", "--page-size", "2") == EXIT_OK
    page = json.loads(capsys.readouterr().out)
    assert page["group"] == "DEFAULT_GROUP" and "pay" in page["services"]
    assert run(server_address, "naming", "select", "pay") == EXIT_OK
    assert run(server_address, "naming", "deregister", "pay", "10.0.0.9", "80") == EXIT_OK
    assert "deregistered 10.0.0.9:80 from DEFAULT_GROUP@@pay" in capsys.readouterr().out
    assert run(server_address, "naming", "select", "pay") == EXIT_NOT_FOUND
    assert run(server_address, "naming", "services", "--page", "0") == EXIT_USAGE


def test_config_watch_announces_itself_and_prints_the_initial_value(
    server_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(server_address, "config", "publish", "w.json", '{"a": 1}')
    capsys.readouterr()
    args = ("config", "watch", "w.json", "--initial", "--count", "1")
    assert run(server_address, *args) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == "watching DEFAULT_GROUP/w.json; Ctrl-C to stop"
    assert captured.out.splitlines()[1] == '{"a": 1}'
    assert run(server_address, "config", "watch", "absent", "--initial", "--count", "1") == 0
    assert "(absent)" in capsys.readouterr().out
