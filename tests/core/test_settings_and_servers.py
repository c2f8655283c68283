"""Settings and server addresses: environment, validation errors naming the bad value."""

from __future__ import annotations

import random
from typing import Any

import pytest

from nacos_async.servers import (
    ServerAddress,
    ServerList,
    parse_server_addresses,
    parse_server_list_body,
)
from nacos_async.settings import NacosSettings


def test_addresses_default_port_scheme_and_ipv6() -> None:
    assert parse_server_addresses("10.0.0.1, https://nacos.example.com:443,[::1]:9000") == (
        ServerAddress("http", "10.0.0.1", 8848),
        ServerAddress("https", "nacos.example.com", 443),
        ServerAddress("http", "::1", 9000),
    )


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "no server address given"),
        ("h1,,h2", "empty entry #2 in the server address list"),
        ("h1:0", "'h1:0': port must be 1-65535"),
        ("h1:70000", "'h1:70000'"),
        ("h1:port", "'h1:port'"),
        ("ftp://h1", "'ftp://h1': scheme must be http or https"),
        ("http://h1:8848/nacos", "no path allowed"),
        ("bad host:1", "bad host 'bad host'"),
        ("http://user:pw@h1", "credentials in the address are not allowed"),
    ],
)
def test_malformed_addresses_name_the_value(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_server_addresses(text)


@pytest.mark.parametrize(
    "text",
    [
        "http://admin:S3CRET@10.0.0.1:88x8",  # bad port after the credentials
        "http://admin:S3CRET@[::1",  # unclosed IPv6 bracket
        "admin:S3CRET@10.0.0.1",
        "h1:8848,http://admin:S3CRET@h2",
    ],
)
def test_a_password_in_an_address_never_reaches_the_error(text: str) -> None:
    with pytest.raises(ValueError, match="credentials in the address") as info:
        parse_server_addresses(text)
    assert "S3CRET" not in str(info.value)
    with pytest.raises(ValueError) as settings_error:
        NacosSettings(server_addr=text)
    assert "S3CRET" not in str(settings_error.value)


def test_a_huge_bad_value_is_quoted_cut_short() -> None:
    with pytest.raises(ValueError) as info:
        parse_server_addresses("h" * 1_000_000 + ":x")
    assert len(str(info.value)) < 400


def test_address_server_body_is_one_server_per_line() -> None:
    assert parse_server_list_body("10.0.0.1:8848\n10.0.0.2\n\n") == (
        ServerAddress("http", "10.0.0.1", 8848),
        ServerAddress("http", "10.0.0.2", 8848),
    )


def test_server_list_steps_once_for_many_failures_of_the_same_server() -> None:
    servers = ServerList(parse_server_addresses("a,b,c"), rng=random.Random(1))
    first = servers.current()
    assert servers.mark_failed(first)
    assert not servers.mark_failed(first)  # a second report of the same failure changes nothing
    second = servers.current()
    assert second != first
    servers.replace(parse_server_addresses("x," + second.host))
    assert servers.current() == second  # stays on a server that is still listed


def test_settings_read_nacos_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NACOS_SERVER_ADDR", "e1:1,e2:2")
    monkeypatch.setenv("NACOS_USERNAME", "env-user")
    monkeypatch.setenv("NACOS_PASSWORD", "env-pw")
    monkeypatch.setenv("NACOS_REQUEST_TIMEOUT", "2.5")
    settings = NacosSettings(namespace="dev")
    assert settings.server_addr == "e1:1,e2:2"
    assert settings.username == "env-user"
    assert settings.password is not None and settings.password.get_secret_value() == "env-pw"
    assert settings.request_timeout == 2.5
    assert NacosSettings(username="arg", password="x").username == "arg"  # arguments win


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"server_addr": "h:0"}, "(?s)server_addr.*'h:0'"),
        ({"username": "", "password": "x"}, "username must not be blank"),
        ({"username": "u"}, "password is required for username 'u'"),
        ({"username": "u", "password": ""}, "password is required"),
        ({"password": "x"}, "password given without username"),
        ({"access_key": "ak"}, "access_key and secret_key"),
        ({"request_timeout": -1}, "request_timeout"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"pool_size": 0}, "pool_size"),
        ({"namespace": "n" * 200}, "namespace longer than 128"),
        ({"token_placement": "cookie"}, "token_placement"),
        ({"api_version": "v2"}, "api_version"),
        ({"usrname": "typo"}, "usrname"),
        ({"ca_file": "/no/such/ca.pem"}, "no such file: '/no/such/ca.pem'"),
        ({"client_key": "/no/key.pem"}, "no such file: '/no/key.pem'"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        NacosSettings(**options)


def test_settings_errors_never_echo_a_password() -> None:
    with pytest.raises(ValueError) as info:
        NacosSettings(username="u", password="hunter2-secret", pool_size="many")
    assert "hunter2-secret" not in str(info.value)
    settings = NacosSettings(
        username="u", password="hunter2-secret", access_key="ak", secret_key="sk-secret"
    )
    assert "hunter2-secret" not in repr(settings) and "sk-secret" not in repr(settings)
    assert "hunter2-secret" not in settings.model_dump_json()


def test_context_path_is_normalised() -> None:
    assert NacosSettings(context_path="nacos/").context_path == "/nacos"
    assert NacosSettings(context_path="/").context_path == ""
