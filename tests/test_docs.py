"""The README stays true: its settings table lists every field, and it opens with the two commands."""

from __future__ import annotations

from pathlib import Path

from nacos_async.settings import NacosSettings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [name for name in NacosSettings.model_fields if f"| `{name}` |" not in README]
    assert missing == []


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0] == "pip install . && nacos-async demo"
    assert block[1].startswith("pip install '.[test]'") and block[1].endswith("pytest -q")
