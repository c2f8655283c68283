"""Config values as the client hands them out, and their parsing into pydantic models."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from nacos_async.errors import NacosConfigParseError

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")
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


@dataclass(frozen=True, init=False)
class ConfigItem:
    """A config's content and what the server says about it."""

    content: str
    md5: str
    type: str = "text"
    last_modified: str | None = None
    source: Source = "server"

    def __init__(
        self,
        content: str,
        md5: str,
        type: str = "text",
        last_modified: str | None = None,
        source: Source = "server",
    ) -> None:
        # straight into the instance dictionary, not five object.__setattr__ calls (nor a
        # keyword dictionary for update()): made on every read
        fields = self.__dict__
        fields["content"] = content
        fields["md5"] = md5
        fields["type"] = type
        fields["last_modified"] = last_modified
        fields["source"] = source


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
    from pydantic import ValidationError  # pydantic loads with the first model, not before

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


FORMATS: tuple[Format, ...] = ("json", "yaml", "properties", "toml")
_EXTENSIONS: dict[str, Format] = {
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".properties": "properties",
    ".toml": "toml",
}
_UNTYPED = ("text", "")  # what a config published without a type carries


def format_of(config_type: str, explicit: str | None = None, *, data_id: str | None = None) -> str:
    """The format to parse a config in: ``explicit`` when given, else the config's stored type.

    A config published without a type (the console's and the CLI's default) is stored as
    "text"; then the dataId's extension decides (``app.json``, ``app.yaml``/``.yml``,
    ``app.properties``, ``app.toml``), which is how Spring Cloud Alibaba reads it too.
    """
    if explicit is not None:
        fmt = {"yml": "yaml"}.get(explicit, explicit)
        if fmt not in FORMATS:
            raise ValueError(
                f"format must be 'json', 'yaml', 'properties' or 'toml', not {_cut(explicit)}"
            )
        return fmt
    fmt = {"yml": "yaml"}.get(config_type, config_type)
    if fmt in FORMATS:
        return fmt
    inferred = _EXTENSIONS.get(_extension(data_id)) if fmt in _UNTYPED else None
    if inferred is not None:
        return inferred
    named = f" {_cut(data_id)}" if data_id is not None else ""
    raise ValueError(
        f"cannot parse a {_cut(config_type)} config{named} into a model: publish it with "
        "type= json, yaml, properties or toml, give it such an extension, or pass format="
    )


def _extension(data_id: str | None) -> str:
    if not data_id or "." not in data_id:
        return ""
    return "." + data_id.rsplit(".", 1)[1].lower()


def _cut(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _load(content: str, fmt: str) -> Any:
    if fmt == "json":
        return json.loads(content)
    if fmt == "toml":
        import tomllib

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
