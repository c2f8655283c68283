"""Shared test setup."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Iterator
from typing import Any

import aiohttp
import aioresponses.core
import pytest


def _patch_aioresponses_for_aiohttp_314() -> None:
    """aioresponses 0.7.9 does not pass ``stream_writer`` that aiohttp 3.14 requires.

    Patch the module global, since ``response_class=`` does not reach ``callback=`` responses.
    """
    params = inspect.signature(aiohttp.ClientResponse.__init__).parameters
    if "stream_writer" not in params:
        return

    class _Writer:
        output_size = 0

    base = aiohttp.ClientResponse

    class _CompatResponse(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", _Writer())
            super().__init__(*args, **kwargs)

    aioresponses.core.ClientResponse = _CompatResponse  # type: ignore[attr-defined]


_patch_aioresponses_for_aiohttp_314()


# --- secrets: every test runs with DEBUG logging captured and scanned ------------------------

_JWT = re.compile(r"eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]{8,}")
_UNREDACTED = re.compile(r"(accessToken|password|secret_?key)=(?!\*\*\*)[^&\s'\",)]+", re.I)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _no_secret_in_any_log_record() -> Iterator[None]:
    """Run the test with the library's loggers at DEBUG and fail it if a record leaks a secret.

    A leak is a JWT (every token the dev server or a test issues is one, or looks like one) or
    an ``accessToken=``/``password=`` value that is not redacted.
    """
    capture = _Capture()
    loggers = [logging.getLogger("nacos_async"), logging.getLogger("aiohttp")]
    previous = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(capture)
        lg.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        for lg, level in zip(loggers, previous, strict=True):
            lg.removeHandler(capture)
            lg.setLevel(level)
    for record in capture.records:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + str(record.exc_info[1])
        assert not _JWT.search(text), f"token in a log record: {record.name}: {text[:200]}"
        assert not _UNREDACTED.search(text), f"secret in a log record: {record.name}: {text[:200]}"
