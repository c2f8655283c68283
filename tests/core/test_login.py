"""Login: response shapes per Nacos version, v3 -> v1 fallback, and bad answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nacos_async.auth import Refusal, classify_refusal
from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosProtocolError,
    NacosServerError,
)
from nacos_async.response import Response
from nacos_async.testing import answer

from .helpers import LOGIN, LOGIN_V1, METRICS, FakeNacos, form_of, make_client, spring_error


def logins_to(fake: FakeNacos, path: str) -> int:
    return sum(1 for r in fake.requests if r.path == path)


@pytest.mark.parametrize(
    ("body", "ttl"),
    [
        ({"accessToken": "t1", "tokenTtl": 18000, "globalAdmin": True}, 18000),  # 1.2-1.4.2
        (
            {"accessToken": "t1", "tokenTtl": 17990, "globalAdmin": False, "username": "nacos"},
            17990,
        ),
        ({"accessToken": "t1", "tokenTtl": 5, "globalAdmin": True, "username": "nacos"}, 5),
    ],
    ids=["1.x", "2.x", "3.x"],
)
async def test_login_answers_of_each_version_are_understood(body: dict[str, Any], ttl: int) -> None:
    fake = FakeNacos()
    fake.login_refusal = answer(json=body)  # every login answers this body
    fake.valid = {"t1"}
    async with make_client(fake, username="nacos", password="pw") as client:
        await client.request("GET", METRICS)
        health = client.health()
    assert fake.seen == ["t1"]
    assert health.token_valid_for is not None and ttl - 1 <= health.token_valid_for <= ttl
    assert client.stats.logins == 1


async def test_login_sends_credentials_in_the_form_body_and_no_token() -> None:
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw"):
        pass
    (login,) = fake.requests
    assert form_of(login) == {"username": "nacos", "password": "pw"}
    assert "Authorization" not in (login.headers or {})
    assert not login.params


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, spring_error(404, "No message available", "/nacos/v3/auth/user/login")),
        (405, spring_error(405, "Request method 'POST' is not supported")),
        (410, spring_error(410, '{"code":40000,"message":"Current API will be deprecated"}')),
        (501, "no such api"),
    ],
)
async def test_v3_login_falls_back_to_v1_and_remembers(status: int, body: str) -> None:
    fake = FakeNacos()
    v1_login = fake.handle

    async def server(request: Any) -> Response:
        if request.path == LOGIN:
            return answer(status, text=body)
        return await v1_login(request)

    fake.transport._handler = server
    async with make_client(fake, username="nacos", password="pw", relogin_min_interval=0) as c:
        fake.expire_all()
        await c.request("GET", METRICS)  # refused: a forced login, through v1 directly
    assert fake.seen == ["tok-1", "tok-2"]
    assert logins_to(fake, LOGIN) == 1  # remembered
    assert logins_to(fake, LOGIN_V1) == 2


async def test_pinned_v1_never_tries_v3() -> None:
    fake = FakeNacos()
    async with make_client(fake, username="nacos", password="pw", api_version="v1"):
        pass
    assert [r.path for r in fake.requests] == [LOGIN_V1]


@pytest.mark.parametrize(
    "refusal",
    [
        answer(403, text="user not found!"),
        # Nacos 3.x on the server port: a Spring 500 without the reason (NACOS_PROTOCOL.md 1.5)
        answer(500, text=spring_error(500, "No message available", "/nacos/v3/auth/user/login")),
        answer(
            500,
            text=spring_error(
                500,
                "Handle API Compatibility failed, please see log for detail.",
                "/nacos/v1/auth/users/login",
            ),
        ),
    ],
    ids=["2.x-403", "3.x-v3-500", "3.x-v1-500"],
)
async def test_wrong_password_is_an_auth_error_naming_user_not_password(
    refusal: Response,
) -> None:
    fake = FakeNacos()
    fake.login_refusal = refusal
    client = make_client(fake, username="nacos", password="wrong-pw", max_attempts=3)
    with pytest.raises(NacosAuthError) as info:
        await client.start()
    text = str(info.value)
    assert "login refused for user 'nacos'" in text and "wrong-pw" not in text
    assert client.health().state == "closed"
    assert len(fake.requests) == 1  # a refused login is never retried as a server fault
    assert client.stats.retries == 0


async def test_login_500_on_every_server_is_a_server_error_not_a_hang() -> None:
    fake = FakeNacos()
    fake.login_refusal = answer(500, text="boom")
    client = make_client(fake, username="nacos", password="pw", max_attempts=3)
    with pytest.raises(NacosServerError):
        await client.start()
    assert logins_to(fake, LOGIN) == 3


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("<html>not json</html>", "not JSON"),
        (json.dumps(["a"]), "not a JSON object"),
        (json.dumps({"tokenTtl": 5}), "no 'accessToken'"),
        (json.dumps({"accessToken": "", "tokenTtl": 5}), "no 'accessToken'"),
        (json.dumps({"accessToken": "t"}), "no numeric 'tokenTtl' \\(got NoneType\\)"),
        (json.dumps({"accessToken": "t", "tokenTtl": "5"}), "got str"),
        (json.dumps({"accessToken": "t", "tokenTtl": True}), "got bool"),
        (json.dumps({"accessToken": "t", "tokenTtl": 0}), "tokenTtl' of 0 seconds"),
        (json.dumps({"accessToken": "t", "tokenTtl": -30}), "tokenTtl' of -30 seconds"),
    ],
)
async def test_bad_login_answers_are_protocol_errors_naming_the_value(
    body: str, match: str
) -> None:
    fake = FakeNacos()
    fake.login_refusal = answer(text=body)
    client = make_client(fake, username="nacos", password="pw")
    with pytest.raises(NacosProtocolError, match=match):
        await client.start()


async def test_a_truncated_login_answer_does_not_quote_the_token() -> None:
    fake = FakeNacos()
    fake.login_refusal = answer(text='{"accessToken":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJuYW')
    client = make_client(fake, username="nacos", password="pw")
    with pytest.raises(NacosProtocolError) as info:
        await client.start()
    assert "eyJ" not in str(info.value)


async def test_a_ttl_of_any_length_works_and_renewal_is_at_least_daily() -> None:
    fake = FakeNacos(ttl=10**12)  # about 31,700 years
    async with make_client(fake, username="nacos", password="pw") as client:
        await client.request("GET", METRICS)
        assert client.health().token_valid_for == pytest.approx(10**12, rel=1e-6)
    assert fake.seen == ["tok-1"]


def test_api_unavailable_is_detected_from_framework_404_only() -> None:
    missing_path = Response(404, spring_error(404, "No message available").encode())
    missing_config = Response(404, b"config data not exist\n")
    nacos_result = Response(404, b'{"code":20004,"message":"resource not found","data":null}')
    assert isinstance(missing_path.error(), NacosApiUnavailableError)
    assert not isinstance(missing_config.error(), NacosApiUnavailableError)
    assert not isinstance(nacos_result.error(), NacosApiUnavailableError)
    assert nacos_result.error().code == 20004


TOKEN_MESSAGES = [
    "token expired!",
    "token invalid!",
    "Invalid signature",
    "unsupported signature algorithm",
    "unknown user!",
    "user not found!",
    "invalid token, username is empty",
    "Code: 401, Message: token expired!.",
    "Code: 401, Message: Invalid signature.",
    "Code: 401, Message: token invalid!.",
    "Code: 401, Message: unsupported signature algorithm.",
    "Code: 401, Message: User not found! Please check user exist or password is right!.",
    "Code: 401, Message: invalid token, username is empty.",
    "something nobody documented",
]
PERMISSION_MESSAGES = ["authorization failed!", "Code: 403, Message: authorization failed!."]


@pytest.mark.parametrize("message", TOKEN_MESSAGES)
def test_token_type_403_messages_allow_a_replay(message: str) -> None:
    assert classify_refusal(message) is Refusal.TOKEN


@pytest.mark.parametrize("message", PERMISSION_MESSAGES)
def test_permission_403_messages_do_not(message: str) -> None:
    assert classify_refusal(message) is Refusal.PERMISSION


def test_message_is_read_from_spring_json_html_and_text() -> None:
    from nacos_async.response import extract_message

    assert extract_message(spring_error(403, "token expired!").encode()) == "token expired!"
    html = b"<html><body><h1>Whitelabel Error Page</h1><div>token expired!</div></body></html>"
    assert "token expired!" in extract_message(html)
    assert extract_message(b"authorization failed!\n") == "authorization failed!"
