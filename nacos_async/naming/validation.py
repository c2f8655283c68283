"""Checks made before any naming request, each a ValueError naming the bad value."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping

_NAME = re.compile(r"^[A-Za-z0-9_.:\-]+$")
_CLUSTER = re.compile(r"^[A-Za-z0-9_\-.]+$")
MAX_WEIGHT = 10_000.0


def service_name(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"service name must be a non-empty string, got {value!r}")
    if len(value) > 512 or "@@" in value or not _NAME.match(value):
        raise ValueError(
            f"invalid service name {value!r}: use letters, digits and _ - . : (at most 512)"
        )
    return value


def group_name(value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 128 or not _NAME.match(value):
        raise ValueError(f"invalid group {value!r}: use letters, digits and _ - . : (at most 128)")
    return value


def cluster_name(value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 64 or not _CLUSTER.match(value):
        raise ValueError(f"invalid cluster {value!r}: use letters, digits and _ - . (at most 64)")
    return value


def ip_address(value: str) -> str:
    """An IPv4 or IPv6 literal (Nacos stores addresses, not host names)."""
    try:
        return str(ipaddress.ip_address(value.strip() if isinstance(value, str) else value))
    except ValueError:
        raise ValueError(f"invalid IP address {value!r}: give an IPv4 or IPv6 address") from None


def port(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"invalid port {value!r}: must be an integer from 1 to 65535")
    return value


def weight(value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_WEIGHT
    ):
        raise ValueError(f"invalid weight {value!r}: must be a number from 0 to 10000")
    return float(value)


def metadata(value: Mapping[str, str] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"metadata must be a mapping of strings, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"metadata keys must be non-empty strings, got {key!r}")
        if not isinstance(item, str):
            raise ValueError(f"metadata value for {key!r} must be a string, got {item!r}")
    return dict(value)
