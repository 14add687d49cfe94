"""The exception tree drawn in hub/errors.py's docstring is the one the code defines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hub.errors

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "alerts", "dashboard", "carehub", "device_sim", "training")
MIXINS = {"ValueError"}  # a second base some errors carry for callers that expect it


def drawn_tree() -> dict[str, str | None]:
    """Class name → parent name, as drawn in the docstring."""
    doc = hub.errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        m = re.match(r"^(\s*)((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)(\s{2,}|$)", line)
        if not m or not (m.group(3).endswith(("Error", "Exists")) or "──" in line):
            continue
        depth = len(m.group(2)) // 4 + (1 if "──" in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[m.group(3)] = stack[-1][1] if stack else None
        stack.append((depth, m.group(3)))
    return parents


def defined_errors() -> dict[str, tuple[str, list[str]]]:
    """Every exception class the packages define: name → (file, base names)."""
    classes: dict[str, tuple[str, list[str]]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    bases = [ast.unparse(b) for b in node.bases]
                    classes[node.name] = (str(path.relative_to(ROOT)), bases)
    errors: dict[str, tuple[str, list[str]]] = {}
    changed = True
    known = {"Exception", "BaseException", "ValueError", "RuntimeError", "CarehubError"}
    while changed:  # a class is an exception when one of its bases is
        changed = False
        for name, (path, bases) in classes.items():
            if (
                name not in errors
                and (name == "CarehubError" or any(b in known or b in errors for b in bases))
                and not any(b in {"BaseModel", "StrEnum"} or b.startswith("_") for b in bases)
            ):
                errors[name] = (path, bases)
                changed = True
    return errors


def test_the_drawing_has_a_root_and_every_node_has_a_parent() -> None:
    tree = drawn_tree()
    assert tree["CarehubError"] is None
    assert tree["AlertExists"] == "Conflict"
    assert tree["Conflict"] == "StoreRefused"
    assert tree["RateLimited"] == "AuthError"
    assert [n for n, p in tree.items() if p is None] == ["CarehubError"]


def test_every_exception_class_is_drawn_under_its_own_parent() -> None:
    tree = drawn_tree()
    defined = defined_errors()
    assert set(defined) == set(tree), (
        f"defined but not drawn: {sorted(set(defined) - set(tree))}; "
        f"drawn but not defined: {sorted(set(tree) - set(defined))}"
    )
    for name, (path, bases) in defined.items():
        if name == "CarehubError":
            continue
        parents = [b for b in bases if b not in MIXINS]
        assert parents == [tree[name]], f"{path}: {name}{tuple(bases)} is drawn under {tree[name]}"
