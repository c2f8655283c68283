"""Config values as the client hands them out, and their parsing into pydantic models."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from nacos_async.errors import NacosConfigParseError

M = TypeVar("M", bound=BaseModel)
Format = Literal["json", "yaml", "properties", "toml"]
Source = Literal["server", "snapshot", "failover"]


def md5_hex(content: str) -> str:
    """Nacos's MD5 of a config: lowercase hex of the UTF-8 bytes."""
    return hashlib.md5(content.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class ConfigKey:
    namespace: str
    group: str
    data_id: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.group}/{self.data_id}"


@dataclass(frozen=True)
class ConfigItem:
    """A config's content and what the server says about it."""

    content: str
    md5: str
    type: str = "text"
    last_modified: str | None = None
    source: Source = "server"


@dataclass(frozen=True)
class ConfigChange:
    """A watched config changed; ``content`` is None when it was deleted."""

    data_id: str
    group: str
    namespace: str
    content: str | None
    md5: str


def parse_model(content: str, model: type[M], fmt: str, *, name: str) -> M:
    """Parse ``content`` as ``fmt`` and validate it into ``model``."""
    try:
        data = _load(content, fmt)
    except NacosConfigParseError:
        raise
    except Exception as exc:
        raise NacosConfigParseError(f"config {name!r} is not valid {fmt}: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise NacosConfigParseError(
            f"config {name!r} does not fit {model.__name__}: {exc.error_count()} error(s): "
            + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()),
            errors=exc.errors(include_input=False),
        ) from None


def format_of(config_type: str, explicit: str | None) -> str:
    fmt = explicit or {"yml": "yaml"}.get(config_type, config_type)
    if fmt not in ("json", "yaml", "properties", "toml"):
        raise ValueError(
            f"cannot parse a {fmt!r} config into a model: pass format='json', 'yaml', "
            "'properties' or 'toml'"
        )
    return fmt


def _load(content: str, fmt: str) -> Any:
    if fmt == "json":
        return json.loads(content)
    if fmt == "toml":
        return tomllib.loads(content)
    if fmt == "properties":
        return parse_properties(content)
    try:
        import yaml
    except ImportError:
        raise NacosConfigParseError(
            "YAML configs need PyYAML: pip install 'nacos-async[yaml]'"
        ) from None
    return yaml.safe_load(content)


def parse_properties(content: str) -> dict[str, str]:
    """Java ``.properties``: ``key=value`` or ``key: value``, ``#``/``!`` comments,
    ``\\`` line continuations. Dotted keys stay flat (``a.b`` is one key)."""
    result: dict[str, str] = {}
    logical = ""
    for raw in content.splitlines():
        line = raw.strip() if not logical else raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            logical += line[:-1]
            continue
        logical += line
        cut = min((i for i in (logical.find("="), logical.find(":")) if i >= 0), default=-1)
        key, value = (logical[:cut], logical[cut + 1 :]) if cut >= 0 else (logical, "")
        result[key.strip()] = value.strip()
        logical = ""
    return result
