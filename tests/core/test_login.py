"""Login: response shapes per Nacos version, v3 -> v1 fallback, and bad answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aioresponses import aioresponses
from yarl import URL

from nacos_async.auth import Forbidden, classify_forbidden
from nacos_async.errors import (
    NacosApiUnavailableError,
    NacosAuthError,
    NacosProtocolError,
    NacosServerError,
)

from .helpers import BASE, login_body, make_client, spring_error, url

V1 = BASE + "/v1/auth/users/login"
V3 = BASE + "/v3/auth/user/login"


@pytest.mark.parametrize(
    ("body", "username"),
    [
        ({"accessToken": "t1", "tokenTtl": 18000, "globalAdmin": True}, None),  # 1.2-1.4.2, 2.0.0-1
        (
            {"accessToken": "t1", "tokenTtl": 17990, "globalAdmin": False, "username": "nacos"},
            "nacos",
        ),
        ({"accessToken": "t1", "tokenTtl": 5, "globalAdmin": True, "username": "nacos"}, "nacos"),
    ],
    ids=["1.x", "2.x", "3.x"],
)
async def test_login_answers_of_each_version_are_understood(
    body: dict[str, Any], username: str | None
) -> None:
    with aioresponses() as mock:
        mock.post(V3, payload=body)
        async with make_client(username="nacos", password="pw") as client:
            token = client.tokens.current if client.tokens else None
            assert token is not None
            assert token.value == "t1"
            assert token.ttl == body["tokenTtl"]
    assert client.stats.logins == 1


async def test_login_sends_credentials_in_the_form_body_and_no_token() -> None:
    with aioresponses() as mock:
        mock.post(V3, payload=login_body())
        async with make_client(username="nacos", password="pw"):
            pass
        (call,) = mock.requests[("POST", URL(V3))]
    assert call.kwargs["data"] == {"username": "nacos", "password": "pw"}
    assert "Authorization" not in call.kwargs["headers"]
    assert not call.kwargs.get("params")


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
    with aioresponses() as mock:
        mock.post(V3, status=status, body=body, content_type="application/json")
        mock.post(V1, payload=login_body("v1-token"), repeat=True)
        client = make_client(username="nacos", password="pw", relogin_min_interval=0)
        async with client:
            assert client.tokens is not None
            assert client.tokens.current is not None
            assert client.tokens.current.value == "v1-token"
            await client.tokens.replace_rejected(client.tokens.current)
        assert len(mock.requests[("POST", URL(V3))]) == 1  # remembered
        assert len(mock.requests[("POST", URL(V1))]) == 2


async def test_pinned_v1_never_tries_v3() -> None:
    with aioresponses() as mock:
        mock.post(V1, payload=login_body())
        async with make_client(username="nacos", password="pw", api_version="v1"):
            pass
        assert ("POST", URL(V3)) not in mock.requests


async def test_wrong_password_is_an_auth_error_naming_user_not_password() -> None:
    with aioresponses() as mock:
        mock.post(V3, status=403, body="user not found!")
        client = make_client(username="nacos", password="wrong-pw")
        with pytest.raises(NacosAuthError) as info:
            await client.start()
    text = str(info.value)
    assert "nacos" in text and "user not found!" in text and "wrong-pw" not in text
    assert client._state == "closed"


async def test_login_500_on_every_server_is_a_server_error_not_a_hang() -> None:
    with aioresponses() as mock:
        mock.post(url("/v3/auth/user/login"), status=500, body="boom", repeat=True)
        client = make_client(username="nacos", password="pw", max_attempts=3)
        with pytest.raises(NacosServerError):
            await client.start()
        assert len(mock.requests[("POST", URL(V3))]) == 3


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("<html>not json</html>", "not JSON"),
        (json.dumps(["a"]), "not a JSON object"),
        (json.dumps({"tokenTtl": 5}), "no 'accessToken'"),
        (json.dumps({"accessToken": "", "tokenTtl": 5}), "no 'accessToken'"),
        (json.dumps({"accessToken": "t"}), "no numeric 'tokenTtl' \\(got None\\)"),
        (json.dumps({"accessToken": "t", "tokenTtl": "5"}), "got '5'"),
        (json.dumps({"accessToken": "t", "tokenTtl": True}), "got True"),
        (json.dumps({"accessToken": "t", "tokenTtl": 0}), "tokenTtl' of 0 seconds"),
        (json.dumps({"accessToken": "t", "tokenTtl": -30}), "tokenTtl' of -30 seconds"),
        (json.dumps({"accessToken": "t", "tokenTtl": 10**12}), "tokenTtl' of 1000000000000"),
    ],
)
async def test_bad_login_answers_are_protocol_errors_naming_the_value(
    body: str, match: str
) -> None:
    with aioresponses() as mock:
        mock.post(V3, status=200, body=body, content_type="application/json")
        client = make_client(username="nacos", password="pw")
        with pytest.raises(NacosProtocolError, match=match):
            await client.start()


def test_api_unavailable_is_detected_from_framework_404_only() -> None:
    from nacos_async.response import Response

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
    assert classify_forbidden(message) is Forbidden.TOKEN


@pytest.mark.parametrize("message", PERMISSION_MESSAGES)
def test_permission_403_messages_do_not(message: str) -> None:
    assert classify_forbidden(message) is Forbidden.PERMISSION


def test_message_is_read_from_spring_json_html_and_text() -> None:
    from nacos_async.response import extract_message

    assert extract_message(spring_error(403, "token expired!").encode()) == "token expired!"
    html = b"<html><body><h1>Whitelabel Error Page</h1><div>token expired!</div></body></html>"
    assert "token expired!" in extract_message(html)
    assert extract_message(b"authorization failed!\n") == "authorization failed!"
