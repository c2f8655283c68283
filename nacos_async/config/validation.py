"""Checks made before any config request, as the server enforces them (``ParamUtils``)."""

from __future__ import annotations

import re

_VALID = re.compile(r"^[A-Za-z0-9_.:\-]+$")
CONFIG_TYPES = frozenset({"text", "json", "yaml", "properties", "xml", "html", "toml"})


def data_id(value: str) -> str:
    return _name("dataId", value, 256)


def group(value: str) -> str:
    return _name("group", value, 128)


def namespace(value: str) -> str:
    return _name("namespace", value, 128)


def content(value: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"content must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError("content must not be empty or blank (Nacos refuses it)")
    return value


def config_type(value: str) -> str:
    if not isinstance(value, str) or value not in CONFIG_TYPES:
        raise ValueError(f"unknown config type {value!r}: use one of {sorted(CONFIG_TYPES)}")
    return value


def _name(kind: str, value: str, limit: int) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{kind} must be a non-empty string, got {value!r}")
    if len(value) > limit or not _VALID.match(value) or value in (".", ".."):
        raise ValueError(
            f"invalid {kind} {value!r}: use letters, digits and _ - . : (at most {limit})"
        )
    return value
