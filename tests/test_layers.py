"""The package's import layers (ARCHITECTURE.md): arrows run one way, imports sit at the top.

Read from each module's syntax tree, nothing imported: every ``espnet_cause`` import is an arrow
from the importing package to the imported one. ``python -m pytest tests/test_layers.py -q``
checks the rules; on a failure the message lists the offending lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "espnet_cause"

#: Layer of each package (smaller is higher): ARCHITECTURE.md's five, and within the jobs layer
#: serve > render > evaluation > avatar, extract > corpora. ``__init__`` is the front door (the lazy
#: ``Speech2AU`` re-export); ``cli.py`` is the CLIs' plumbing, imported by ``bin/`` only.
LAYERS = {
    "__init__": 0.0,
    "bin": 1.0,
    "cli": 1.0,
    "serve": 2.0,
    "render": 2.1,
    "evaluation": 2.2,
    "avatar": 2.3,
    "extract": 2.3,
    "corpora": 2.4,
    "inference": 3.0,
    "tasks": 3.0,
    "ganimation": 3.0,
    "tts": 3.0,
    "models": 3.0,
    "losses": 3.0,
    "face": 4.0,
    "io": 4.0,
    "jobs": 4.0,
}
#: Everything else (au, arkit, emotion, targets, errors, assets): the vocabularies, at the bottom.
BOTTOM = 5.0
#: At most this many project imports inside functions (issue 30), each for a heavy dependency.
MAX_LOCAL_IMPORTS = 60


@dataclass(frozen=True)
class Arrow:
    path: str
    line: int
    source: str
    target: str
    imported: str
    local: bool
    comment: str  # the line above the import


def _package(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 or parts[1] == "__init__" else parts[1]


def _in_function(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return True
    return False


def arrows() -> list[Arrow]:
    """Every project import of the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        source = _package(".".join(rel.with_suffix("").parts))
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "espnet_cause":
                    names = [f"espnet_cause.{a.name}" for a in node.names]
                else:
                    names = [node.module]
            elif isinstance(node, ast.Import):
                # ``import espnet_cause`` (for __version__) is the parent package: not an arrow
                names = [a.name for a in node.names if a.name != "espnet_cause"]
            else:
                continue
            for name in names:
                if name.split(".")[0] != "espnet_cause":
                    continue
                found.append(
                    Arrow(
                        path=str(rel),
                        line=node.lineno,
                        source=source,
                        target=_package(name),
                        imported=name,
                        local=_in_function(node, parents),
                        comment=lines[node.lineno - 2].strip() if node.lineno > 1 else "",
                    )
                )
    return found


def _layer(package: str) -> float:
    return LAYERS.get(package, BOTTOM)


def test_scan_sees_the_package():
    found = arrows()
    assert len(found) > 500
    assert {"bin", "render", "corpora", "io", "tts"} <= {a.source for a in found}


def test_no_upward_imports():
    up = [a for a in arrows() if a.source != a.target and _layer(a.target) < _layer(a.source)]
    assert not up, "imports against the layers:\n" + "\n".join(
        f"{a.path}:{a.line}: {a.source} imports {a.imported}" for a in up
    )


def test_the_library_never_imports_the_clis():
    into_cli = [
        a for a in arrows() if a.target in ("bin", "cli") and a.source not in ("bin", "cli")
    ]
    assert not into_cli, "\n".join(f"{a.path}:{a.line}: {a.imported}" for a in into_cli)


def test_few_function_local_imports_each_with_its_reason():
    local = [a for a in arrows() if a.local]
    assert len(local) <= MAX_LOCAL_IMPORTS
    # the reason: a comment on the line above naming the heavy dependency that makes it local
    unexplained = [a for a in local if not a.comment.startswith("#")]
    assert not unexplained, "function-local imports without a reason comment:\n" + "\n".join(
        f"{a.path}:{a.line}: {a.imported}" for a in unexplained
    )
