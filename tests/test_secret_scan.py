"""The autouse log scan in conftest.py catches leaks (so a passing suite means something)."""

from __future__ import annotations

import logging

import pytest

from . import conftest


@pytest.mark.parametrize(
    "line",
    [
        "sent eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJuYWNvcyIsImV4cCI6MX0.abcdefghijk",
        "GET /nacos/v1/cs/configs?accessToken=abc123",
        "login with password=hunter2",
    ],
)
def test_the_patterns_catch_a_token_or_password(line: str) -> None:
    assert conftest._JWT.search(line) or conftest._UNREDACTED.search(line)


def test_redacted_values_pass() -> None:
    line = "GET /nacos/v1/cs/configs?accessToken=***&password=***"
    assert not conftest._JWT.search(line) and not conftest._UNREDACTED.search(line)


def test_the_library_logger_is_at_debug_during_tests() -> None:
    assert logging.getLogger("nacos_async").isEnabledFor(logging.DEBUG)
