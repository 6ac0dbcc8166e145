"""The house's rule, checked: data flows one way and imports follow it.

A stage imports only stages before it and ``ogi.core`` (the ground); inside ``ogi.transform`` the
sub-packages go knowledge → placement | readers → parse → checks → arbitrate. A module that reaches
up the chain (or sideways between placement and readers) fails here, naming the import.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from tests.conftest import REPO_ROOT

# rank of each part of the package: a module may import parts of lower rank, or its own part
STAGES = {"ogi.core": 0, "ogi.data": 0, "ogi.fetch": 1, "ogi.extract": 2, "ogi.transform": 3, "ogi.store": 4,
          "ogi.flows": 5, "ogi": 6}
TRANSFORM = {"knowledge": 0, "placement": 1, "readers": 1, "parse": 2, "checks": 3, "arbitrate": 4}


def _modules() -> dict[str, Path]:
    mapping = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-dir"]
    out: dict[str, Path] = {}
    for pkg, folder in mapping.items():
        for path in (REPO_ROOT / folder).rglob("*.py"):
            rel = path.relative_to(REPO_ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([pkg, *parts])
            if pkg == "ogi" and parts and parts[0] == "core":
                name = ".".join(["ogi", *parts])
            out[name] = path
    return out


def _part(module: str) -> str:
    for prefix in sorted(STAGES, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    raise AssertionError(module)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return [(n, m) for n, m in found if m == "ogi" or m.startswith("ogi.")]


def _transform_part(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "transform" and parts[2] in TRANSFORM else None


def test_imports_go_one_way():
    modules = _modules()
    violations = []
    for name, path in modules.items():
        mine = _part(name)
        for line, target in _imports(path):
            if target not in modules and target.rsplit(".", 1)[0] in modules:
                target = target.rsplit(".", 1)[0]  # "from ogi.x import name"
            if target not in modules:
                continue
            theirs = _part(target)
            if theirs != mine and STAGES[theirs] >= STAGES[mine]:
                violations.append(f"{path.relative_to(REPO_ROOT)}:{line} ({mine}) imports {target} ({theirs})")
            a, b = _transform_part(name), _transform_part(target)
            if a and b and a != b and TRANSFORM[b] >= TRANSFORM[a]:
                violations.append(f"{path.relative_to(REPO_ROOT)}:{line} (transform.{a}) imports {target}")
    assert not violations, "\n".join(sorted(set(violations)))

