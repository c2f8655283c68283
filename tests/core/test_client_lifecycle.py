"""Client lifecycle and hygiene: start/close from anywhere, sessions, processes, loops, secrets."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import aiohttp
import pytest
from aiohttp import web

from nacos_async import ClientHealth, NacosClient
from nacos_async.errors import NacosAuthError, NacosClosedError, NacosConnectionError, NacosError
from nacos_async.events import Event
from nacos_async.testing import HttpRequest, MockTransport, answer

from .helpers import METRICS, FakeNacos, make_client

PASSWORD = "pa55-word-never-shown"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJuYWNvcyJ9.never-shown-signature"


async def _serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, runner.addresses[0][1]


async def test_close_leaves_no_task_and_closes_its_transport() -> None:
    fake = FakeNacos()
    client = make_client(fake, username="nacos", password="pw")
    await client.start()
    assert len(asyncio.all_tasks()) > 1  # the renewal loop
    await client.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert fake.transport.closed
    await client.close()  # idempotent


async def test_a_given_session_is_used_and_left_open() -> None:
    async def metrics(_: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/nacos" + METRICS, metrics)
    runner, port = await _serve(app)
    try:
        async with aiohttp.ClientSession() as session:
            async with NacosClient(f"127.0.0.1:{port}", session=session) as client:
                await client.request("GET", METRICS)
            assert not session.closed
    finally:
        await runner.cleanup()


async def test_user_exceptions_inside_async_with_are_not_wrapped() -> None:
    with pytest.raises(KeyError):
        async with make_client():
            raise KeyError("mine")


async def test_lazy_login_waits_for_the_first_request() -> None:
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw", lazy_login=True) as client:
        assert client.stats.logins == 0
        await client.request("GET", METRICS)
        assert client.stats.logins == 1


async def test_address_server_provides_the_server_list() -> None:
    async def metrics(_: web.Request) -> web.Response:
        return web.json_response({"up": 1})

    nacos = web.Application()
    nacos.router.add_get("/nacos" + METRICS, metrics)
    nacos_runner, nacos_port = await _serve(nacos)

    async def serverlist(_: web.Request) -> web.Response:
        return web.Response(text=f"127.0.0.1:{nacos_port}\n")

    address = web.Application()
    address.router.add_get("/nacos/serverlist", serverlist)
    address_runner, address_port = await _serve(address)
    try:
        client = NacosClient("unused.invalid:1", endpoint=f"127.0.0.1:{address_port}")
        async with client:
            response = await client.request("GET", METRICS)
            assert response.json() == {"up": 1}
            assert client.health().servers == [f"127.0.0.1:{nacos_port}"]
    finally:
        await nacos_runner.cleanup()
        await address_runner.cleanup()


@pytest.mark.parametrize("answer_kind", ["redirect", "huge"])
async def test_the_address_server_goes_through_the_same_limits(answer_kind: str) -> None:
    """No redirect is followed and the size limit applies, as for every other request."""

    async def serverlist(_: web.Request) -> web.Response:
        if answer_kind == "redirect":
            raise web.HTTPFound("http://elsewhere.invalid/serverlist")
        return web.Response(text="127.0.0.1:8848\n" * 10_000)

    app = web.Application()
    app.router.add_get("/nacos/serverlist", serverlist)
    runner, port = await _serve(app)
    try:
        client = NacosClient(
            "unused.invalid:1", endpoint=f"127.0.0.1:{port}", max_response_bytes=4096,
            max_attempts=1,
        )  # fmt: skip
        with pytest.raises(NacosError, match=r"302|max_response_bytes"):
            await client.start()
    finally:
        await runner.cleanup()


async def test_event_hooks_see_login_replay_and_a_raising_hook_is_contained() -> None:
    seen: list[str] = []
    fake = FakeNacos()
    client = make_client(fake, username="nacos", password="pw", relogin_min_interval=0)
    client.add_event_hook(lambda e: seen.append(e.kind))

    def broken(_: Event) -> None:
        raise RuntimeError("hook bug")

    client.add_event_hook(broken)
    async with client:
        fake.expire_all()
        await client.request("GET", METRICS)
    assert "login" in seen and "replay" in seen and "forced_login" in seen


async def test_no_secret_in_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[NacosError] = []

    def server(request: HttpRequest) -> object:
        if request.path.endswith("/login"):
            return answer(json={"accessToken": TOKEN, "tokenTtl": 18000})
        if request.path == "/v1/b":
            raise NacosConnectionError(f"boom ?accessToken={TOKEN}"[:14])
        return answer(403, json={"status": 403, "error": "x", "message": "token expired!"})

    client = NacosClient(
        "nacos.test:8848", username="nacos", password=PASSWORD, token_placement="query",
        relogin_min_interval=0, access_key="ak", secret_key="sk-" + PASSWORD, max_attempts=1,
        transport=MockTransport(server),  # type: ignore[arg-type]
    )  # fmt: skip
    async with client:
        for path, error in (("/v1/a", NacosAuthError), ("/v1/b", NacosConnectionError)):
            with pytest.raises(error) as info:
                await client.request("GET", path, resource="config")
            errors.append(info.value)
        texts = [repr(client), repr(client.settings), repr(client.health())]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "expected DEBUG records to inspect"
    for text in texts:
        assert PASSWORD not in text
        assert TOKEN not in text


# --- close() from any task ------------------------------------------------------------------


async def test_close_from_a_config_listener_ends_closed_without_spinning() -> None:
    fake = FakeNacos()
    fake.route("GET", "/v3/client/cs/config", lambda _: answer(json=config_answer("v1")))
    fake.route("POST", "/v1/cs/configs/listener", listener_answer)  # type: ignore[arg-type]
    client = make_client(fake)
    closed = asyncio.Event()

    async def on_change(_: object) -> None:
        await client.close(timeout=2)
        closed.set()

    async with client:
        await client.config.add_listener("app", on_change)
        fake.route("GET", "/v3/client/cs/config", lambda _: answer(json=config_answer("v2")))
        await asyncio.wait_for(closed.wait(), 5)
    assert client.health().state == "closed"
    assert fake.transport.closed
    await asyncio.sleep(0)  # the listener's own loop ends after its turn
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_close_from_a_naming_subscriber_ends_closed() -> None:
    fake = FakeNacos()
    hosts = [[], [{"ip": "10.0.0.1", "port": 80}]]
    fake.route(
        "GET", "/v1/ns/instance/list",
        lambda _: answer(json={"hosts": hosts.pop(0) if len(hosts) > 1 else hosts[0]}),
    )  # fmt: skip
    client = make_client(fake, naming_poll_interval=0.01)
    closed = asyncio.Event()

    async def on_change(_: object) -> None:
        await client.close(timeout=2)
        closed.set()

    async with client:
        await client.naming.subscribe("orders", on_change)
        await asyncio.wait_for(closed.wait(), 5)
    assert client.health().state == "closed"


async def test_close_scheduled_by_an_event_hook_ends_closed() -> None:
    fake = FakeNacos()
    client = make_client(fake)
    tasks: list[asyncio.Task[None]] = []
    client.add_event_hook(
        lambda e: tasks.append(asyncio.ensure_future(client.close())) if not tasks else None
    )
    async with client:
        await client.request("GET", METRICS)
        await asyncio.wait_for(tasks[0], 5)
    assert client.health().state == "closed"


# --- processes and loops --------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
async def test_a_client_used_after_fork_raises_a_typed_error_in_the_child() -> None:
    fake = FakeNacos()
    async with make_client(fake) as client:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: a fresh loop, the parent's client
            os.close(read)
            outcome = "no error"
            try:
                asyncio.new_event_loop().run_until_complete(client.request("GET", METRICS))
            except NacosClosedError as exc:
                outcome = "closed: child process" if "child process" in str(exc) else str(exc)
            except BaseException as exc:
                outcome = repr(exc)
            os.write(write, outcome.encode())
            os._exit(0)
        os.close(write)
        _, status = await asyncio.to_thread(os.waitpid, pid, 0)
        outcome = os.read(read, 1000).decode()
        os.close(read)
        await client.request("GET", METRICS)  # the parent's client is untouched
    assert os.waitstatus_to_exitcode(status) == 0
    assert outcome == "closed: child process"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_client_created_before_a_fork_and_started_in_the_child_works() -> None:
    client = make_client()
    pid = os.fork()
    if pid == 0:

        async def child() -> None:
            async with client:
                await client.request("GET", METRICS)

        try:
            asyncio.run(child())
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_client_used_from_another_event_loop_raises_a_typed_error() -> None:
    client = make_client()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(client.start())
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            asyncio.run(client.request("GET", METRICS))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert isinstance(errors[0], NacosClosedError), errors
    assert "another event loop" in str(errors[0])
    loop.run_until_complete(client.close())
    loop.close()
    assert client.health().state == "closed"


def test_health_is_a_snapshot_that_hides_the_token() -> None:
    health = ClientHealth("running", ["a:1"], "a:1", auth=True, token_valid_for=10.0)
    assert health.ok and health.as_dict()["ok"] is True
    assert not ClientHealth("running", ["a:1"], "a:1", auth=True).ok  # no token yet


def config_answer(content: str) -> dict[str, object]:
    import hashlib

    md5 = hashlib.md5(content.encode()).hexdigest()
    return {"code": 0, "data": {"content": content, "md5": md5, "contentType": "text"}}


async def listener_answer(request: HttpRequest) -> object:
    """A long-poll: 'app' changed when the client still holds v1's MD5, else held forever."""
    if config_answer("v1")["data"]["md5"] in request.body.decode():  # type: ignore[index, union-attr]
        return answer(text="app%02DEFAULT_GROUP%01\n")
    await asyncio.Event().wait()
    raise AssertionError("unreachable")
