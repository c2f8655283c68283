"""The pytest plugin in someone else's project, run by a separate pytest process.

Installing nacos-async registers the plugin for every pytest run in the environment: it must
load without pytest-asyncio, and its async fixtures must run under pytest-asyncio (strict and
auto mode) and under anyio's plugin. pytest-asyncio is hidden by a module of the same name
that fails to import, placed first on the path (``-p no:asyncio`` alone would still let the
plugin import it), so no throwaway virtualenv is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ANYIO_CONFTEST = """
import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
"""

USES_FIXTURES = """
import os

from nacos_async import NacosClient
from nacos_async.testing import NacosDevServer


async def {name}(nacos_server: NacosDevServer, nacos_client: NacosClient) -> None:
    await nacos_client.config.publish("app", "from a fixture")
    assert nacos_server.get_config("app") is not None


async def {name}_env(nacos_env: NacosDevServer) -> None:
    assert os.environ["NACOS_SERVER_ADDR"] == nacos_env.address
"""

UNRELATED = """
def test_unrelated() -> None:
    assert 1 + 1 == 2
"""


def _outcomes(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|errors?|skipped)", last)}


def run_pytest(
    project: Path, files: dict[str, str], *, hide_pytest_asyncio: bool = False
) -> tuple[dict[str, int], str]:
    for name, text in files.items():
        (project / name).write_text(text)
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error"]
    if hide_pytest_asyncio:
        shadow = project.parent / f"{project.name}-shadow"
        shadow.mkdir()
        (shadow / "pytest_asyncio.py").write_text(
            "raise ModuleNotFoundError(\"No module named 'pytest_asyncio'\", name='pytest_asyncio')"
        )
        env["PYTHONPATH"] = str(shadow)
        args += ["-p", "no:asyncio"]
    done = subprocess.run(
        [*args, "-q", str(project)],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return _outcomes(done.stdout), done.stdout + done.stderr


def test_loads_without_pytest_asyncio_and_runs_under_anyio(tmp_path: Path) -> None:
    project = tmp_path / "anyio_project"
    project.mkdir()
    tests = USES_FIXTURES.format(name="test_anyio").replace(
        "\nasync def", "\n@pytest.mark.anyio\nasync def"
    )
    outcomes, output = run_pytest(
        project,
        {
            "pytest.ini": "[pytest]\n",
            "conftest.py": ANYIO_CONFTEST,
            "test_unrelated.py": UNRELATED,
            "test_anyio.py": "import pytest\n" + tests,
            "test_no_runner.py": "def test_sync(nacos_server):\n    pass\n",
        },
        hide_pytest_asyncio=True,
    )
    assert "Error while loading plugin" not in output
    assert outcomes == {"passed": 3, "error": 1}, output
    assert "nacos_server is an async fixture, and no plugin runs this test" in output


def test_pytest_asyncio_strict_mode_beside_anyio(tmp_path: Path) -> None:
    strict = USES_FIXTURES.format(name="test_strict")
    marked = strict.replace("\nasync def", "\n@pytest.mark.asyncio\nasync def")
    anyio_marked = USES_FIXTURES.format(name="test_anyio").replace(
        "\nasync def", "\n@pytest.mark.anyio\nasync def"
    )
    outcomes, output = run_pytest(
        tmp_path,
        {
            "pytest.ini": "[pytest]\nasyncio_mode = strict\n"
            "asyncio_default_fixture_loop_scope = function\n",
            "conftest.py": ANYIO_CONFTEST,
            "test_strict.py": "import pytest\n" + marked,
            "test_anyio.py": "import pytest\n" + anyio_marked,
        },
    )
    assert outcomes == {"passed": 4}, output


def test_pytest_asyncio_auto_mode(tmp_path: Path) -> None:
    outcomes, output = run_pytest(
        tmp_path,
        {
            "pytest.ini": "[pytest]\nasyncio_mode = auto\n"
            "asyncio_default_fixture_loop_scope = function\n",
            "test_auto.py": USES_FIXTURES.format(name="test_auto"),
            "test_unrelated.py": UNRELATED,
        },
    )
    assert outcomes == {"passed": 3}, output


async def test_an_overridden_fixture_is_left_alone(nacos_server: object) -> None:
    assert nacos_server == "overridden"


@pytest.fixture
def nacos_server() -> str:
    return "overridden"
