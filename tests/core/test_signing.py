"""AK/SK signatures, checked against HMAC-SHA1 computed here independently."""

from __future__ import annotations

import base64
import hashlib
import hmac

from pydantic import SecretStr

from nacos_async.signing import AccessKeySigner
from nacos_async.testing import answer

from .helpers import FakeNacos, make_client

TS = 1_700_000_000_123


def expected(secret: str, text: str) -> str:
    mac = hmac.HMAC(secret.encode(), msg=text.encode(), digestmod="sha1")
    return base64.standard_b64encode(mac.digest()).decode()


def signer() -> AccessKeySigner:
    return AccessKeySigner("my-ak", SecretStr("my-sk"), millis=lambda: TS)


def test_known_vector() -> None:
    # HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog") from RFC-style examples
    digest = hmac.new(
        b"key", b"The quick brown fox jumps over the lazy dog", hashlib.sha1
    ).hexdigest()
    assert digest == "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
    sig = AccessKeySigner("ak", SecretStr("key"), millis=lambda: 0)
    header = sig.config_headers({})
    assert header["Spas-Signature"] == expected("key", "0")


def test_config_signature_covers_tenant_group_and_timestamp() -> None:
    headers = signer().config_headers({"tenant": "dev", "group": "G", "dataId": "d"})
    assert headers == {
        "Spas-AccessKey": "my-ak",
        "Timestamp": str(TS),
        "Spas-Signature": expected("my-sk", f"dev+G+{TS}"),
    }
    assert signer().config_headers({"group": "G"})["Spas-Signature"] == expected("my-sk", f"G+{TS}")
    assert signer().config_headers({})["Spas-Signature"] == expected("my-sk", str(TS))


def test_naming_signature_covers_the_grouped_service() -> None:
    params = signer().naming_params({"serviceName": "orders", "groupName": "G"})
    assert params == {
        "ak": "my-ak",
        "data": f"{TS}@@G@@orders",
        "signature": expected("my-sk", f"{TS}@@G@@orders"),
    }
    already = signer().naming_params({"serviceName": "G@@orders", "groupName": "G"})
    assert already["data"] == f"{TS}@@G@@orders"
    assert signer().naming_params({})["data"] == str(TS)
    assert "my-sk" not in repr(signer())


async def test_client_signs_config_and_naming_requests() -> None:
    fake = FakeNacos()
    fake.route("GET", "/v1/cs/configs", lambda _: answer(text="x"))
    fake.route("GET", "/v1/ns/instance/list", lambda _: answer(json={"hosts": []}))
    async with make_client(fake, access_key="my-ak", secret_key="my-sk") as client:
        await client.request(
            "GET", "/v1/cs/configs", params={"dataId": "d", "group": "G"}, resource="config"
        )
        await client.request(
            "GET", "/v1/ns/instance/list", params={"serviceName": "s"}, resource="naming"
        )
    config_call, naming_call = fake.requests
    assert (config_call.headers or {})["Spas-AccessKey"] == "my-ak"
    assert "Spas-Signature" in (config_call.headers or {})
    assert (naming_call.params or {})["ak"] == "my-ak"
    assert (naming_call.params or {})["data"].endswith("@@s")
