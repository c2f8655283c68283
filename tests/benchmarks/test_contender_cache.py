"""The cached contender virtualenvs are safe to share: one build however many processes ask at
once, and a half-built or outdated virtualenv is built again."""

from __future__ import annotations

import select
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import IO

import pytest

from benchmarks import _harness

ROOT = Path(__file__).resolve().parents[2]

# A builder process: the cache under argv[1]; its build step says "building" and waits for a
# line on stdin before building, so the test holds it mid-build while a second process asks.
BUILDER = """
import sys
from pathlib import Path
from benchmarks import _harness

_harness.VENVS = Path(sys.argv[1])
real_build = _harness.build_venv

def held_build(home, *requirements):
    print("building", flush=True)
    sys.stdin.readline()
    return real_build(home, *requirements)

_harness.build_venv = held_build
print(_harness.contender_python("tiny", *sys.argv[2:]), flush=True)
"""


def tiny_wheel(where: Path) -> Path:
    """A pure-Python wheel of one module, ``tiny``, so that pip needs no index."""
    wheel = where / "tiny-1.0-py3-none-any.whl"
    info = "tiny-1.0.dist-info"
    files = {
        "tiny.py": "VALUE = 42\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", "".join(f"{n},,\n" for n in [*files, f"{info}/RECORD"]))
    return wheel


def start_builder(venvs: Path, *requirements: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", BUILDER, str(venvs), *requirements],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def read_line(stream: IO[str] | None, timeout: float = 60) -> str:
    """The next line of a child's pipe, or '' if none comes in ``timeout`` seconds."""
    assert stream is not None
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def test_two_processes_asking_at_once_build_once_and_both_get_the_interpreter(
    tmp_path: Path,
) -> None:
    venvs, wheel = tmp_path / "venvs", str(tiny_wheel(tmp_path))
    first = start_builder(venvs, wheel)
    second = None
    try:
        assert read_line(first.stdout) == "building\n"  # the first holds the build
        second = start_builder(venvs, wheel)
        assert "waiting for another process" in read_line(second.stderr)
        first_out, _ = first.communicate("go\n", timeout=120)
        # Were the second to build too, it would go on at once (stdin closed), saying "building".
        second_out, _ = second.communicate("", timeout=120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert first.returncode == 0 and second.returncode == 0
    assert "building" not in second_out
    python = first_out.strip()
    assert python == second_out.strip() == str(venvs / "tiny" / "bin" / "python")
    assert list(venvs.glob(".tiny.build-*")) == []
    found = subprocess.run([python, "-c", "import sys, tiny; print(sys.prefix, tiny.VALUE)"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert found.stdout.split() == [str(venvs / "tiny"), "42"]


@pytest.fixture
def builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The cache moved under ``tmp_path``; returns the requirements of every build made."""
    monkeypatch.setattr(_harness, "VENVS", tmp_path / "venvs")
    made: list[tuple[str, ...]] = []
    real_build = _harness.build_venv

    def counted(home: Path, *requirements: str) -> Path:
        made.append(requirements)
        return real_build(home, *requirements)

    monkeypatch.setattr(_harness, "build_venv", counted)
    return made


def test_a_ready_virtualenv_is_reused(builds: list[tuple[str, ...]]) -> None:
    first = _harness.contender_python("plain")
    assert _harness.contender_python("plain") == first
    assert builds == [()]


def test_a_half_built_virtualenv_and_a_crashed_build_are_replaced(
    builds: list[tuple[str, ...]],
) -> None:
    home = _harness.VENVS / "plain"
    (home / "bin").mkdir(parents=True)  # what a crash before the marker leaves
    (home / "bin" / "half-built").write_text("")
    crashed = _harness.VENVS / ".plain.build-crashed"
    crashed.mkdir()
    python = _harness.contender_python("plain")
    assert builds == [()]
    assert not (home / "bin" / "half-built").exists() and not crashed.exists()
    prefix = subprocess.run([python, "-c", "import sys; print(sys.prefix)"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert prefix.stdout.strip() == str(home)


def test_other_requirements_rebuild_the_virtualenv(
    tmp_path: Path, builds: list[tuple[str, ...]]
) -> None:
    _harness.contender_python("tiny")
    wheel = str(tiny_wheel(tmp_path))
    python = _harness.contender_python("tiny", wheel)
    assert builds == [(), (wheel,)]
    subprocess.run([python, "-c", "import tiny"], check=True)


def test_a_failed_install_names_the_requirement_and_leaves_no_virtualenv(
    tmp_path: Path, builds: list[tuple[str, ...]]
) -> None:
    missing = str(tmp_path / "no-such-1.0-py3-none-any.whl")
    with pytest.raises(RuntimeError, match=r"no-such-1\.0"):
        _harness.contender_python("broken", missing)
    assert not (_harness.VENVS / "broken").exists()
    assert list(_harness.VENVS.glob(".broken.build-*")) == []
