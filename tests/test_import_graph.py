"""The layers import only downward: parsed from the source, TYPE_CHECKING imports included.

- no circle among nacos_async modules;
- no service (config, naming) imports the client facade;
- the core never imports ``nacos_async.testing`` or ``nacos_async.cli``;
- nothing outside ``nacos_async.grpc`` and ``nacos_async.testing`` imports grpclib at module level.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "nacos_async"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every module ``path`` imports, anywhere in it (TYPE_CHECKING blocks and functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            for alias in node.names:  # "from nacos_async.config import service" is a module
                found.add(f"{name}.{alias.name}")
    return found


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t in imports_of(path, root) if t in modules and t != name}
        edges[name] = {t for t in targets if not name.startswith(t + ".")}  # own package init
    return edges


def core(name: str) -> bool:
    return not any(
        name == outer or name.startswith(outer + ".")
        for outer in ("nacos_async.testing", "nacos_async.cli")
    )


def cycles_in(edges: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, str] = {}
    path: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = "active"
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == "active":
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_circle_among_nacos_async_modules() -> None:
    cycles = cycles_in(graph())
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_services_never_import_the_client_facade() -> None:
    edges = graph()
    offenders = {
        name: sorted(t for t in targets if t == "nacos_async.client")
        for name, targets in edges.items()
        if name.startswith(("nacos_async.config", "nacos_async.naming", "nacos_async.grpc"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_core_never_imports_testing_or_cli() -> None:
    edges = graph()
    offenders = {
        name: sorted(t for t in targets if not core(t))
        for name, targets in edges.items()
        if core(name)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_grpc_package_and_the_dev_server_import_grpclib() -> None:
    users = [
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(t == "grpclib" or t.startswith("grpclib.") for t in imports_of(path))
    ]
    assert all(u.startswith(("nacos_async.grpc", "nacos_async.testing")) for u in users), users


def test_the_checker_sees_a_circle_held_open_by_type_checking_and_relative_imports(
    tmp_path: Path,
) -> None:
    package = tmp_path / "nacos_async"
    (package / "config").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "config" / "__init__.py").write_text("")
    (package / "client.py").write_text("from .config import service\n")
    (package / "config" / "service.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..client import Client\n"
    )
    assert cycles_in(graph(package)) == [
        ["nacos_async.client", "nacos_async.config.service", "nacos_async.client"]
    ]
