"""Login paths, JWT format, token placement and 403 messages per flavor."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from nacos_async.testing import NacosDevServer, flavor_traits

from ._helpers import login

MESSAGES = {
    "2.x": {
        "expired": "token expired!",
        "signature": "Invalid signature",
        "invalid": "token invalid!",
        "algorithm": "unsupported signature algorithm",
        "user": "user not found!",
        "forbidden": "authorization failed!",
    },
    "3.x": {
        "expired": "Code: 401, Message: token expired!.",
        "signature": "Code: 401, Message: Invalid signature.",
        "invalid": "Code: 401, Message: token invalid!.",
        "algorithm": "Code: 401, Message: unsupported signature algorithm.",
        "user": "Code: 401, Message: User not found! Please check user exist or password is "
        "right!.",
        "forbidden": "Code: 403, Message: authorization failed!.",
    },
}


def _b64url_json(part: str) -> object:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.parametrize(
    ("flavor", "path"),
    [
        ("2.x", "/v1/auth/login"),
        ("2.x", "/v1/auth/users/login"),
        ("3.1", "/v3/auth/user/login"),
        ("3.2", "/v3/auth/user/login"),
        ("3.2", "/v1/auth/users/login"),
    ],
)
async def test_login_answers_token_with_exact_fields(
    http: aiohttp.ClientSession, flavor: str, path: str
) -> None:
    now = 1_700_000_000.0
    async with NacosDevServer(flavor=flavor, token_ttl=600, wall_time=lambda: now) as server:  # type: ignore[arg-type]
        # Parameters in the query string (Python SDKs) work as well as in the form body.
        async with http.post(f"{server.url}{path}?username=nacos&password=nacos") as resp:
            assert resp.status == 200
            raw = await resp.text()
            body = json.loads(raw)
            assert list(body) == ["accessToken", "tokenTtl", "globalAdmin", "username"]
            assert body["tokenTtl"] == 600
            assert body["globalAdmin"] is True
            assert body["username"] == "nacos"
            assert resp.headers["Authorization"] == f"Bearer {body['accessToken']}"
        header, payload, signature = body["accessToken"].split(".")
        assert header == "eyJhbGciOiJIUzI1NiJ9"
        assert _b64url_json(header) == {"alg": "HS256"}
        assert _b64url_json(payload) == {"sub": "nacos", "exp": int(now) + 600}
        assert "=" not in signature
        assert server.stats.logins[path] == 1


async def test_token_ttl_is_remaining_lifetime_when_token_is_presented(
    http: aiohttp.ClientSession,
) -> None:
    clock = [1_700_000_000.0]
    async with NacosDevServer(token_ttl=100, wall_time=lambda: clock[0]) as server:
        token = await login(http, server)
        clock[0] += 40
        # A token on the login request is validated instead of the (wrong) password.
        async with http.post(
            f"{server.url}/v1/auth/users/login",
            data={"username": "nacos", "password": "wrong"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            body = await resp.json()
        assert body["accessToken"] == token
        assert body["tokenTtl"] == 60
        assert server.stats.tokens_on_login == 1


V1_3X = "Handle API Compatibility failed, please see log for detail."


@pytest.mark.parametrize("flavor", ["2.x", "3.1"])
async def test_expired_token_on_login_fails_even_with_right_password(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    async with NacosDevServer(flavor=flavor) as server:  # type: ignore[arg-type]
        token = await login(http, server)
        server.expire_tokens()
        async with http.post(
            f"{server.url}/v1/auth/users/login",
            data={"username": "nacos", "password": "nacos", "accessToken": token},
        ) as resp:
            if flavor == "2.x":
                assert resp.status == 403
                assert await resp.text() == "token expired!"
            else:  # 3.x on port 8848: the ApiCompatibilityFilter's 500, without the reason
                assert resp.status == 500
                assert (await resp.json())["message"] == V1_3X
        assert server.stats.login_failures["token expired!"] == 1


@pytest.mark.parametrize(
    ("flavor", "path", "status", "body"),
    [
        ("2.x", "/v1/auth/users/login", 403, "user not found!"),
        ("3.1", "/v1/auth/users/login", 500, V1_3X),
        ("3.2", "/v1/auth/login", 500, V1_3X),
        ("3.1", "/v3/auth/user/login", 500, "No message available"),
        ("3.3", "/v3/auth/user/login", 500, "No message available"),
    ],
)
async def test_wrong_password_as_the_server_port_renders_it(
    http: aiohttp.ClientSession, flavor: str, path: str, status: int, body: str
) -> None:
    """2.x: ConsoleExceptionHandler's 403 text. 3.x port 8848: no handler for the
    AccessException (whose getMessage() is null), so a Spring 500 that never says why."""
    async with NacosDevServer(flavor=flavor) as server:  # type: ignore[arg-type]
        resp = await http.post(f"{server.url}{path}", data={"username": "nacos", "password": "x"})
        assert resp.status == status
        text = await resp.text()
        if flavor == "2.x":
            assert text == body
        else:
            answer = json.loads(text)
            assert list(answer) == ["timestamp", "status", "error", "message", "path"]
            assert (answer["status"], answer["error"]) == (500, "Internal Server Error")
            assert (answer["message"], answer["path"]) == (body, f"/nacos{path}")
        reason = "user not found!" if flavor == "2.x" else V3_USER
        assert server.stats.login_failures == {reason: 1}  # why, for tests to see


V3_USER = "User not found! Please check user exist or password is right!"


async def test_v1_login_without_password_is_spring_400(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer() as server:
        async with http.post(f"{server.url}/v1/auth/login", data={"username": "nacos"}) as resp:
            assert resp.status == 400
            body = await resp.json()
        assert body["message"] == (
            "Required request parameter 'password' for method parameter type String is not present"
        )


async def test_login_get_is_405(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer() as server, http.get(f"{server.url}/v1/auth/login") as resp:
        assert resp.status == 405
        assert (await resp.json())["error"] == "Method Not Allowed"


CONFIG = "/v1/cs/configs?dataId=app&group=DEFAULT_GROUP"


@pytest.mark.parametrize("flavor", ["2.x", "3.1"])
async def test_each_403_message_per_flavor(http: aiohttp.ClientSession, flavor: str) -> None:
    style = "2.x" if flavor == "2.x" else "3.x"
    async with NacosDevServer(flavor=flavor) as server:  # type: ignore[arg-type]
        server.publish_config("app", "x")
        server.add_user("reader", "pw", permissions=[("public:*:config/*", "r")])
        good = await login(http, server)
        reader = await login(http, server, "reader", "pw")
        header, payload, _ = good.split(".")
        cases = {
            "user": {},
            "invalid": {"accessToken": "abc.def"},
            "algorithm": {"accessToken": f"eyJhbGciOiJub25lIn0.{payload}.x"},
            "signature": {"accessToken": f"{header}.{payload}.AAAA"},
        }
        url = f"{server.url}{CONFIG}"
        for kind, params in cases.items():
            async with http.get(url, params=params) as resp:
                assert resp.status == 403, kind
                body = await resp.json()
                assert list(body) == ["timestamp", "status", "error", "message", "path"]
                assert body["status"] == 403
                assert body["error"] == "Forbidden"
                assert body["path"] == "/nacos/v1/cs/configs"
                assert body["message"] == MESSAGES[style][kind]
        # A read-only user may read but not write.
        async with http.get(url, params={"accessToken": reader}) as resp:
            assert resp.status == 200
        async with http.post(
            f"{server.url}/v1/cs/configs",
            data={"dataId": "app", "group": "DEFAULT_GROUP", "content": "y"},
            params={"accessToken": reader},
        ) as resp:
            assert resp.status == 403
            assert (await resp.json())["message"] == MESSAGES[style]["forbidden"]
        server.expire_tokens()
        async with http.get(url, params={"accessToken": good}) as resp:
            assert (await resp.json())["message"] == MESSAGES[style]["expired"]
        assert server.stats.forbidden[MESSAGES[style]["expired"]] == 1
        assert sum(server.stats.forbidden.values()) == 6


async def test_token_accepted_from_bearer_header_and_param(
    http: aiohttp.ClientSession,
) -> None:
    async with NacosDevServer() as server:
        server.publish_config("app", "x")
        token = await login(http, server)
        url = f"{server.url}{CONFIG}"
        for kwargs in (
            {"headers": {"Authorization": f"Bearer {token}"}},
            {"headers": {"accessToken": token}},
            {"headers": {"ACCESSTOKEN": token}},
            {"params": {"accessToken": token}},
            {"params": {"username": "nacos", "password": "nacos"}},
        ):
            async with http.get(url, **kwargs) as resp:  # type: ignore[arg-type]
                assert resp.status == 200, kwargs
        # A parameter overrides a header of the same name.
        async with http.get(
            url, headers={"accessToken": token}, params={"accessToken": "bad"}
        ) as resp:
            assert resp.status == 403


async def test_identity_key_bypasses_auth(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(identity_key="X-Node", identity_value="peer") as server:
        server.publish_config("app", "x")
        async with http.get(f"{server.url}{CONFIG}", headers={"X-Node": "peer"}) as resp:
            assert resp.status == 200
        async with http.get(f"{server.url}{CONFIG}", headers={"X-Node": "other"}) as resp:
            assert resp.status == 403


@pytest.mark.parametrize("flavor", ["3.1", "3.2", "3.3"])
async def test_auth_off_leaves_client_apis_open_but_3x_admin_apis_closed(
    http: aiohttp.ClientSession, flavor: str
) -> None:
    """``nacos.core.auth.admin.enabled`` defaults to true in every 3.x: with client auth off,
    publish/delete (v3 admin config) and the service list still need a token."""
    async with NacosDevServer(auth=False, flavor=flavor) as server:  # type: ignore[arg-type]
        server.publish_config("app", "x")
        async with http.get(
            f"{server.url}/v3/client/cs/config?dataId=app&groupName=DEFAULT_GROUP"
        ) as resp:
            assert (await resp.json())["data"]["content"] == "x"
        token = await login(http, server)
        for method, path in (
            ("GET", "/v3/admin/cs/config?dataId=app&groupName=DEFAULT_GROUP"),
            ("POST", "/v3/admin/cs/config?dataId=app&groupName=DEFAULT_GROUP&content=y"),
            ("GET", "/v3/admin/ns/service/list"),
            ("PUT", "/v3/admin/ns/instance?serviceName=s&ip=1.1.1.1&port=1"),
        ):
            async with http.request(method, f"{server.url}{path}") as resp:
                assert resp.status == 403, path
                message = (await resp.json())["message"]
                assert message == MESSAGES["3.x"]["user"]
            async with http.request(
                method, f"{server.url}{path}", headers={"accessToken": token}
            ) as resp:
                assert resp.status != 403, path
        if server.traits.v1_removed:
            return
        # 3.0/3.1 still serve the open v1 APIs, which follow client auth (off here).
        form = {"dataId": "app", "group": "DEFAULT_GROUP", "content": "z"}
        async with http.post(f"{server.url}/v1/cs/configs", data=form) as resp:
            assert await resp.text() == "true"
        params = {"pageNo": "1", "pageSize": "10"}
        async with http.get(f"{server.url}/v1/ns/service/list", params=params) as resp:
            assert resp.status == 200


@pytest.mark.parametrize("flavor", ["2.x", "3.1", "3.2", "3.3"])
async def test_client_auth_by_default_is_on_from_33(flavor: str) -> None:
    """What ``nacos.core.auth.enabled`` is when left unset (alibaba/nacos#15357, PR #15824);
    the dev server itself requires tokens unless ``auth=False``, whatever the flavor."""
    traits = flavor_traits(flavor)  # type: ignore[arg-type]
    assert traits.client_auth_by_default is (flavor == "3.3")
    async with NacosDevServer(flavor=flavor) as server:  # type: ignore[arg-type]
        assert server.auth is True and server.traits is traits


async def test_33_refuses_a_client_call_without_credentials(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer(flavor="3.3", auth=flavor_traits("3.3").client_auth_by_default) as s:
        s.publish_config("app", "x")
        url = f"{s.url}/v3/client/cs/config?dataId=app&groupName=DEFAULT_GROUP"
        async with http.get(url) as resp:
            assert resp.status == 403
            assert (await resp.json())["message"] == MESSAGES["3.x"]["user"]
        async with http.get(url, headers={"accessToken": await login(http, s)}) as resp:
            assert (await resp.json())["data"]["content"] == "x"


async def test_deleted_user_token_still_works_until_it_expires(
    http: aiohttp.ClientSession,
) -> None:
    clock = [1_700_000_000.0]
    async with NacosDevServer(wall_time=lambda: clock[0], token_ttl=60) as server:
        server.publish_config("app", "x")
        server.add_user("bob", "pw", permissions=[("*", "rw")])
        token = await login(http, server, "bob", "pw")
        server.remove_user("bob")
        async with http.get(f"{server.url}{CONFIG}", params={"accessToken": token}) as resp:
            assert resp.status == 200
        server.skew_clock(61)  # the settable offset moves the server's clock
        async with http.get(f"{server.url}{CONFIG}", params={"accessToken": token}) as resp:
            assert (await resp.json())["message"] == "token expired!"
        async with http.post(
            f"{server.url}/v1/auth/login", data={"username": "bob", "password": "pw"}
        ) as resp:
            assert resp.status == 403


async def test_browser_accept_gets_whitelabel_page(http: aiohttp.ClientSession) -> None:
    async with NacosDevServer() as server:
        resp = await http.get(f"{server.url}{CONFIG}", headers={"Accept": "text/html"})
        assert resp.status == 403
        assert "<div>user not found!</div>" in await resp.text()


def test_secret_key_must_decode_to_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        NacosDevServer(secret_key=base64.b64encode(b"short").decode())


async def test_larger_keys_sign_with_hs384_as_nacos_does(http: aiohttp.ClientSession) -> None:
    key = base64.b64encode(b"k" * 48).decode()
    async with NacosDevServer(secret_key=key) as server:
        token = await login(http, server)
        assert token.startswith("eyJhbGciOiJIUzM4NCJ9.")
        server.publish_config("app", "x")
        async with http.get(f"{server.url}{CONFIG}", params={"accessToken": token}) as resp:
            assert resp.status == 200
