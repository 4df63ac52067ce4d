"""The folder tree is the pipeline: imports run one way, and packages share only public names.

Read with ``ast`` from the source files (nothing is imported), so a new module is covered the
moment it is written. The order below is the one ``docs/architecture.md`` draws.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "errorrules"

# Stage order: a module may import from its own stage and the ones before it, never after.
STAGES = (
    "_base",
    "_lang",
    "_model",
    "_load",
    "_compile",
    "_engines",
    "_decide",
    "_assess",
    "_register",
    "_api",
    "_record",
    "_tester",
    "_serve",
    "_cli",
)
RANK = {name: i for i, name in enumerate(STAGES)}
# Only the rete engine may touch durable-rules; only the CLI parses argv.
ONLY = {
    "durable": ("_engines", "rete"),
    "argparse": ("_cli",),
    # The service's framework is an extra: only _serve imports it (the CLI lazily, through it).
    "starlette": ("_serve",),
    "uvicorn": ("_serve",),
    "prometheus_client": ("_serve",),
    # PostgreSQL's driver is an extra too: only the register's PostgreSQL backend loads it.
    "psycopg": ("_register",),
}
MAX_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _dotted(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path) -> list[tuple[int, tuple[str, ...], tuple[str, ...]]]:
    """(line, imported module inside errorrules, names) for every import of our own code."""
    here = _dotted(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + tuple(node.module.split(".") if node.module else ())
            elif node.module and node.module.split(".")[0] == "errorrules":
                target = tuple(node.module.split(".")[1:])
            else:
                continue
            found.append((node.lineno, target, tuple(a.name for a in node.names)))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "errorrules":
                    found.append((node.lineno, tuple(alias.name.split(".")[1:]), ()))
    return found


def _stage(parts: tuple[str, ...]) -> str | None:
    return parts[0] if parts and parts[0] in RANK else None


def test_every_private_module_belongs_to_a_stage() -> None:
    loose = [
        str(p.relative_to(SRC))
        for p in _modules()
        if p.name != "__init__.py" and _stage(_dotted(p)) is None
    ]
    assert loose == []


def test_every_stage_package_says_what_it_owns_and_may_import() -> None:
    for name in STAGES:
        init = SRC / name / "__init__.py"
        path = init if init.exists() else SRC / f"{name}.py"
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{path.relative_to(SRC)} needs a docstring"
        assert doc.startswith(f"Stage {RANK[name]}"), f"{name}: its docstring names its stage"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_run_down_the_pipeline(path: Path) -> None:
    here = _stage(_dotted(path))
    if here is None:  # errorrules/__init__: the public surface re-exports every stage
        return
    upward = []
    for line, target, _names in _imports(path):
        there = _stage(target)
        if there is not None and RANK[there] > RANK[here]:
            upward.append(f"{path.name}:{line} ({here}) imports {'.'.join(target)} ({there})")
    assert upward == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_packages_share_only_public_names(path: Path) -> None:
    here = _stage(_dotted(path))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = []
    for line, target, names in _imports(path):
        there = _stage(target)
        if there is None or there == here:
            continue
        hidden = [p for p in target[1:] if p.startswith("_")]
        hidden += [n for n in names if n.startswith("_")]
        if hidden:
            private.append(f"{path.name}:{line} takes {hidden} from {'.'.join(target)}")
    # ``from .._tester import scenarios as s`` then ``s._helper``: private all the same.
    foreign = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level and _foreign(path, node)
        for alias in node.names
    }
    private += [
        f"{path.name}:{node.lineno} reads {node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in foreign
        and node.attr.startswith("_")
    ]
    assert private == []


def _foreign(path: Path, node: ast.ImportFrom) -> bool:
    """Whether a relative import reaches into another stage's package."""
    here = _dotted(path)
    package = here if path.name == "__init__.py" else here[:-1]
    target = package[: len(package) - (node.level - 1)] + tuple((node.module or "").split("."))
    there = _stage(tuple(p for p in target if p))
    return there is not None and there != _stage(here)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_owner_imports_durable_and_argparse(path: Path) -> None:
    parts = _dotted(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            roots = [node.module.split(".")[0]]
        else:
            continue
        for root in roots:
            if root in ONLY:
                owner = ONLY[root]
                assert parts[: len(owner)] == owner, f"{path.name}:{node.lineno} imports {root}"


def _runtime_imports(path: Path) -> list[tuple[str, ...]]:
    """Modules of ours that ``path`` imports when it runs (``if TYPE_CHECKING:`` left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    here = _dotted(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[str, ...]] = []
    for node in ast.walk(tree):
        if id(node) in typing_only or not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        target = package[: len(package) - (node.level - 1)] + tuple(
            node.module.split(".") if node.module else ()
        )
        for alias in node.names:
            sub = (*target, alias.name)
            is_module = SRC.joinpath(*sub).with_suffix(".py").exists()
            is_module = is_module or SRC.joinpath(*sub, "__init__.py").exists()
            found.append(sub if is_module else target)
    return found


def test_no_import_circles() -> None:
    graph = {_dotted(p): set(_runtime_imports(p)) for p in _modules()}
    circles = []

    def visit(node: tuple[str, ...], stack: list[tuple[str, ...]]) -> None:
        if node in stack:
            circles.append(" -> ".join(".".join(n) for n in [*stack[stack.index(node) :], node]))
            return
        for nxt in sorted(graph.get(node, ())):
            if nxt != node:
                visit(nxt, [*stack, node])

    for start in sorted(graph):
        visit(start, [])
    assert circles == []


def _has_reason(path: Path, text: str) -> bool:
    """A long room may stay long when its module docstring says why (``Long because``)."""
    doc = ast.get_docstring(ast.parse(text)) or ""
    return "Long because" in doc or "long because" in doc


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_rooms_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if _has_reason(path, text):
        return
    assert text.count("\n") <= MAX_LINES, f"{path.relative_to(SRC)} has over {MAX_LINES} lines"
    long = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            if size > MAX_FUNCTION_LINES:
                long.append(f"{node.name} ({size} lines, line {node.lineno})")
    assert long == [], f"{path.relative_to(SRC)}: split or say why at the top: {long}"


def _module_map() -> set[str]:
    """Module paths named in docs/architecture.md's module map (``pkg/sub/name.py``)."""
    doc = (SRC.parent.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    named: set[str] = set()
    for line in doc.split("## Module map", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`_"):
            continue
        package = cells[0].strip("`")
        if package.endswith(".py"):
            named.add(package)
            continue
        for part in cells[1].split(";"):
            folder, _, names = part.rpartition(":") if "/`:" in part else ("", "", part)
            prefix = package + "/" + folder.strip().strip("`") if folder else package + "/"
            for name in names.split(","):
                named.add(prefix + name.strip().strip("`"))
    return named


def test_architecture_doc_names_every_module() -> None:
    actual = {
        str(p.relative_to(SRC))
        for p in _modules()
        if (p.name != "__init__.py" and p.parent != SRC) or p.name == "_api.py"
    }
    named = _module_map()
    assert sorted(actual - named) == [], "add these to docs/architecture.md's module map"
    assert sorted(named - actual) == [], "docs/architecture.md names modules that do not exist"
