"""Shared test setup."""

from __future__ import annotations

import inspect
from typing import Any

import aiohttp
import aioresponses.core


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
