"""The pytest fixtures and the command line."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys

import aiohttp
import pytest

from nacos_async.cli import main
from nacos_async.testing import FLAVORS, NacosDevServer
from nacos_async.testing.cli import configure_parser


async def test_default_fixture(nacos_server: NacosDevServer) -> None:
    assert nacos_server.flavor == "2.x"
    assert nacos_server.auth is True
    assert re.fullmatch(r"127\.0\.0\.1:\d+", nacos_server.address)
    assert nacos_server.url == f"http://{nacos_server.address}/nacos"


@pytest.mark.parametrize("nacos_server", ["2.x", "3.1", "3.2", "3.3"], indirect=True)
async def test_indirect_flavor(
    nacos_server: NacosDevServer, request: pytest.FixtureRequest
) -> None:
    assert nacos_server.flavor == request.node.callspec.params["nacos_server"]


@pytest.mark.parametrize("nacos_server", [{"flavor": "3.2", "token_ttl": 7}], indirect=True)
async def test_indirect_kwargs(nacos_server: NacosDevServer) -> None:
    assert (nacos_server.flavor, nacos_server.token_ttl) == ("3.2", 7)


@pytest.mark.nacos_server("3.1", auth=False)
async def test_marker(nacos_server: NacosDevServer) -> None:
    assert (nacos_server.flavor, nacos_server.auth) == ("3.1", False)


async def test_start_and_close_without_context_manager() -> None:
    server = NacosDevServer()
    assert await server.start() is server
    with pytest.raises(RuntimeError):
        await server.start()
    await server.close()
    await server.close()  # twice is fine


def test_bad_flavor() -> None:
    with pytest.raises(ValueError, match=r"flavor must be one of .*'3\.3'.*, not '1\.4'"):
        NacosDevServer(flavor="1.4")  # type: ignore[arg-type]


def test_cli_accepts_every_flavor() -> None:
    parser = configure_parser(argparse.ArgumentParser())
    for flavor in FLAVORS:
        assert parser.parse_args(["--flavor", flavor]).flavor == flavor
    with pytest.raises(SystemExit):
        parser.parse_args(["--flavor", "3.4"])


def test_cli_main_without_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "dev-server" in capsys.readouterr().out


def test_cli_dev_server_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["dev-server", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--port", "--auth", "--username", "--password", "--token-ttl", "--flavor",
                   "--data-dir"):  # fmt: skip
        assert option in out


async def test_cli_serves_and_logs_requests_without_secrets() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from nacos_async.cli import main; sys.exit(main(sys.argv[1:]))",
        "dev-server", "--port", "0", "--flavor", "3.3", "--token-ttl", "60",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        first = (await asyncio.wait_for(proc.stderr.readline(), 20)).decode()
        match = re.search(r"at (http://\S+/nacos)", first)
        assert match, first
        url = match.group(1)
        async with aiohttp.ClientSession() as http:
            login = f"{url}/v3/auth/user/login?username=nacos&password=nacos"
            async with http.post(login) as resp:
                body = await resp.json()
                assert body["tokenTtl"] == 60
            params = {"dataId": "a", "groupName": "G", "accessToken": body["accessToken"]}
            async with http.get(f"{url}/v3/client/cs/config", params=params) as resp:
                assert (await resp.json())["code"] == 20004
        lines = [(await asyncio.wait_for(proc.stderr.readline(), 20)).decode() for _ in range(2)]
        assert '"POST /nacos/v3/auth/user/login?username=nacos&password=***" 200' in lines[0]
        assert "accessToken=***" in lines[1]
        assert body["accessToken"] not in "".join(lines)
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
