"""Names shared by config and naming: the defaults and the one rule for valid identifiers.

Nacos accepts letters, digits and ``_ - . :`` in dataIds, groups, namespaces and service names
(``ParamUtils`` on the server); cluster names exclude ``:``.
"""

from __future__ import annotations

import re

from nacos_async.errors import clip

DEFAULT_GROUP = "DEFAULT_GROUP"
DEFAULT_CLUSTER = "DEFAULT"
DEFAULT_NAMESPACE = "public"

_NAME = re.compile(r"[A-Za-z0-9_.:\-]+")
_CLUSTER = re.compile(r"[A-Za-z0-9_.\-]+")


def check_name(kind: str, value: object, limit: int, *, cluster: bool = False) -> str:
    """``value`` if it is a valid Nacos name of at most ``limit`` characters; else a ValueError
    naming ``kind`` and the (clipped) value."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{kind} must be a non-empty string, got {clip(value)}")
    pattern = _CLUSTER if cluster else _NAME
    if len(value) > limit or value in (".", "..") or not pattern.fullmatch(value):
        allowed = "_ - ." if cluster else "_ - . :"
        raise ValueError(
            f"invalid {kind} {clip(value)}: use letters, digits and {allowed} (at most {limit})"
        )
    return value
