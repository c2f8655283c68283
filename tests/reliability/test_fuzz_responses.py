"""Fuzzed server answers give typed errors, never another exception, a hang or a huge read."""

from __future__ import annotations

import asyncio
import contextlib
import json

import anyio
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nacos_async.client import NacosClient
from nacos_async.errors import NacosError, NacosProtocolError, NacosTimeoutError
from nacos_async.login import parse_login_response
from nacos_async.response import Response, extract_message

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
login_like = st.fixed_dictionaries(
    {},
    optional={
        "accessToken": json_values,
        "tokenTtl": json_values,
        "username": json_values,
        "globalAdmin": json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | login_like.map(lambda v: json.dumps(v).encode())
    | st.text(max_size=200).map(lambda t: f"<html><div>{t}</div></html>".encode())
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=bodies)
def test_login_parsing_gives_a_result_or_a_protocol_error(body: bytes) -> None:
    response = Response(200, body, method="POST", path="/v1/auth/users/login")
    try:
        result = parse_login_response(response)
    except NacosProtocolError:
        return
    assert result.access_token and result.ttl > 0


@settings(max_examples=400, deadline=None)
@given(body=bodies, status=st.sampled_from([400, 403, 404, 405, 409, 410, 500, 501, 502, 503, 418]))
def test_error_answers_map_to_typed_errors_with_bounded_messages(body: bytes, status: int) -> None:
    error = Response(status, body, method="GET", path="/v1/cs/configs").error()
    assert isinstance(error, NacosError)
    assert len(extract_message(body)) <= 503
    assert error.server_message is None or len(error.server_message) <= 503


awkward_answers = json_values | st.sampled_from(
    [[], ["a"], {"code": 0, "data": ["x"]}, {"code": 0, "data": {"pageItems": [1]}},
     {"hosts": {"a": 1}}, {"code": 0, "data": [{"ip": 1}]}, {"code": 0, "data": [["x"]]},
     {"count": "x", "doms": "y"}, {"data": None}]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(value=awkward_answers, family=st.sampled_from(["v1", "v3"]))
def test_any_json_answer_to_a_service_call_is_a_result_or_a_typed_error(
    value: object, family: str
) -> None:
    """Every service call fed arbitrary JSON (a list where an object belongs, ...)."""
    from nacos_async.testing import HttpRequest, MockTransport, answer

    def server(_: HttpRequest) -> Response:
        return answer(text=json.dumps(value))

    async def calls() -> None:
        client = NacosClient("nacos.test:8848", api_version=family, max_attempts=1,
                             transport=MockTransport(server))  # fmt: skip
        async with client:
            for call in (
                lambda: client.naming.list_instances("svc"),
                lambda: client.naming.list_services(),
                lambda: client.config.get("app", default=None),
            ):
                with contextlib.suppress(NacosError):
                    await call()

    asyncio.run(calls())


async def _serve(handler: object) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/nacos/v1/x", handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"127.0.0.1:{runner.addresses[0][1]}"


async def test_slowloris_body_is_cut_by_the_request_timeout() -> None:
    stop = asyncio.Event()

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        while not stop.is_set():
            await response.write(b"x")
            await asyncio.sleep(0.01)
        return response

    runner, address = await _serve(trickle)
    try:
        async with NacosClient(address, request_timeout=0.3, max_attempts=1) as client:
            with anyio.fail_after(5), pytest.raises(NacosTimeoutError):
                await client.request("GET", "/v1/x")
    finally:
        stop.set()
        await runner.cleanup()


async def test_endless_body_is_cut_by_the_size_limit() -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(10_000):
            await response.write(b"y" * 65536)
        return response

    runner, address = await _serve(endless)
    try:
        async with NacosClient(address, max_response_bytes=1_000_000, max_attempts=1) as client:
            with (
                anyio.fail_after(10),
                pytest.raises(NacosProtocolError, match="max_response_bytes"),
            ):
                await client.request("GET", "/v1/x")
    finally:
        await runner.cleanup()


async def test_invalid_utf8_is_a_protocol_error() -> None:
    with pytest.raises(NacosProtocolError, match="UTF-8"):
        Response(200, b"\xff\xfe\xfa").text()
