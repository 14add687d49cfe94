"""What a module imports, read from its source (for the "pure code does no I/O" tests)."""

from __future__ import annotations

import ast
from pathlib import Path


def top_level_imports(path: Path) -> set[str]:
    """The top-level packages the module at ``path`` imports, anywhere in it: ``import a.b``
    and ``from a.b import c`` both give ``a``."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return {n.split(".")[0] for n in names}
