"""Checks made before any config request, as the server enforces them (``ParamUtils``)."""

from __future__ import annotations

from nacos_async.errors import clip
from nacos_async.names import check_name

CONFIG_TYPES = frozenset({"text", "json", "yaml", "properties", "xml", "html", "toml"})


def data_id(value: str) -> str:
    return check_name("dataId", value, 256)


def group(value: str) -> str:
    return check_name("group", value, 128)


def namespace(value: str) -> str:
    return check_name("namespace", value, 128)


def content(value: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"content must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError("content must not be empty or blank (Nacos refuses it)")
    return value


def config_type(value: str) -> str:
    if not isinstance(value, str) or value not in CONFIG_TYPES:
        raise ValueError(f"unknown config type {clip(value)}: use one of {sorted(CONFIG_TYPES)}")
    return value
