"""Checks made before any naming request, each a ValueError naming the bad value."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping

from nacos_async.errors import clip
from nacos_async.names import check_name

MAX_WEIGHT = 10_000.0


def service_name(value: str) -> str:
    return check_name("service name", value, 512)  # "@@" cannot pass: "@" is not allowed


def group_name(value: str) -> str:
    return check_name("group", value, 128)


def cluster_name(value: str) -> str:
    return check_name("cluster", value, 64, cluster=True)


def ip_address(value: str) -> str:
    """An IPv4 or IPv6 literal (Nacos stores addresses, not host names)."""
    try:
        return str(ipaddress.ip_address(value.strip() if isinstance(value, str) else value))
    except ValueError:
        raise ValueError(
            f"invalid IP address {clip(value)}: give an IPv4 or IPv6 address"
        ) from None


def port(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"invalid port {clip(value)}: must be an integer from 1 to 65535")
    return value


def weight(value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_WEIGHT
    ):
        raise ValueError(f"invalid weight {clip(value)}: must be a number from 0 to 10000")
    return float(value)


def metadata(value: Mapping[str, str] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"metadata must be a mapping of strings, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"metadata keys must be non-empty strings, got {clip(key)}")
        if not isinstance(item, str):
            raise ValueError(f"metadata value for {clip(key)} must be a string, got {clip(item)}")
    return dict(value)
