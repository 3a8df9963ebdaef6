"""The layering rule of docs/architecture.md, checked from the imports: nothing below ``vault.py``
imports it (or anything built on it). Type-only imports (under ``if TYPE_CHECKING:``) are erased at
run time and allowed; lower layers type against the ``Core`` protocol where they can."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mdstore"

# Modules built on the facade: the package's public surface, the CLI, the starter vault.
ABOVE = {
    "mdstore/__init__.py",
    "mdstore/__main__.py",
    "mdstore/vault.py",
    "mdstore/starter.py",
    "mdstore/handlers.py",
}
ABOVE_PACKAGES = ("mdstore/cli/",)
TOP_MODULES = {"mdstore.vault", "mdstore.starter", "mdstore.handlers", "mdstore.cli"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        package = module.split(".")
        if not module.endswith("__init__"):
            package = package[:-1] if not _is_package(module) else package
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    names = [f"{base}.{a.name}" for a in node.names]
    return [base, *names]


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def _type_only(tree: ast.Module) -> set[int]:
    """Line numbers of imports inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        lines.add(sub.lineno)
    return lines


def upward_imports(path: Path) -> list[str]:
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = _type_only(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno not in type_only:
            targets = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else _resolve(module, node)
            )
            for target in targets:
                if any(target == top or target.startswith(top + ".") for top in TOP_MODULES):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {target}")
                    break
    return found


def test_nothing_imports_vault_py_from_below() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if rel in ABOVE or rel.startswith(ABOVE_PACKAGES):
            continue
        problems += upward_imports(path)
    assert problems == []


def test_the_checker_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    # The rule itself must be able to fail: a module of a lower package that imports the facade.
    probe = PACKAGE / "history" / "_layer_probe.py"
    probe.write_text(
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..vault import Vault\n"
        "def f():\n    from ..vault import open_vault\n    import mdstore.starter\n",
        encoding="utf-8",
    )
    try:
        found = upward_imports(probe)
    finally:
        probe.unlink()
    assert [f.split(" imports ")[1] for f in found] == ["mdstore.vault", "mdstore.starter"]
