"""``import nacos_async`` loads the client, not what only some users need; every public name
still imports."""

from __future__ import annotations

import json
import subprocess
import sys

LAZY = [
    "pydantic",
    "tomllib",
    "yaml",
    "opentelemetry",
    "grpclib",
    "nacos_async.grpc",
    "nacos_async.config",
    "nacos_async.naming",
    "nacos_async.integrations",
    "nacos_async.testing",
    "nacos_async.cli",
    "nacos_async.settings",
    "nacos_async.shutdown",
]


def loaded_after(code: str) -> dict[str, bool]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {LAZY!r}}}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: dict[str, bool] = json.loads(out.stdout)
    return loaded


def test_importing_the_package_loads_none_of_the_optional_parts() -> None:
    assert loaded_after("import nacos_async") == dict.fromkeys(LAZY, False)


def test_every_public_name_imports_and_loads_its_part() -> None:
    loaded = loaded_after("from nacos_async import *")
    assert loaded["pydantic"] and loaded["nacos_async.settings"] and loaded["nacos_async.naming"]
    assert not loaded["nacos_async.testing"] and not loaded["opentelemetry"]
    import nacos_async

    for name in nacos_async.__all__:
        assert getattr(nacos_async, name) is not None
    assert set(nacos_async.__all__) <= set(dir(nacos_async))


def test_the_grpc_config_transport_loads_grpclib_but_not_pydantic() -> None:
    """What a ``[grpc]`` client imports at start; its settings were made before, by the client."""
    loaded = loaded_after("import nacos_async, nacos_async.grpc.config")
    assert loaded["grpclib"] and loaded["nacos_async.config"]
    assert not loaded["pydantic"] and not loaded["nacos_async.settings"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    import nacos_async

    try:
        nacos_async.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
