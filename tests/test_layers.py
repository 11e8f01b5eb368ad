"""The package is layered: a unit (``scarline.X``, a package or a module) imports only units
ranked at or below it in :data:`LAYERS`, and no imports form a cycle, between units or
between the modules of one package.

Every ``import`` and ``from … import`` in ``src/scarline`` counts, wherever it is written:
at module level, inside a function, under ``TYPE_CHECKING``. An import hidden in a function
still runs, so it may not point upward either. See docs/architecture.md, "Package layers".
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "scarline"

LAYERS: list[tuple[str, list[str]]] = [
    # core: shared by every layer, imports nothing of scarline outside itself
    (
        "core",
        [
            "_version",  # __version__, which every layer may read
            "errors",
            "safe_write",  # whole-file writes that never follow a planted link
            "strict",
            "rng",
            "clock",
            "instrument",
            "provenance",
            "array_packing",  # how the WAL stores long arrays (schema 13)
            "events",
            "decisions",
            "trace",
            "parquet_io",
            "session",
            "stats",
            "filters",  # lfilter's first-order recursion, compiled (the EWMAs)
            "digest",
            "rundir",
            "signing",  # Ed25519 keys and signed sidecars (docs/security.md)
            "performance",  # per-agent statistics (numpy, pandas only)
            "settled_heap",  # full garbage collections skip a loop's standing objects
            "machine_memory",  # what memory is left, checked before big allocations
        ],
    ),
    # data: markets, the features agents observe, the WAL and the run manifest
    ("data", ["market", "features", "journal"]),
    # simulation: everything one kernel step runs
    (
        "simulation",
        ["execution", "risk", "regime", "learning", "evolution", "agents", "reflect"],
    ),
    # kernel: the run config, the kernel and the one place it is assembled
    (
        "kernel",
        [
            "ops_config",  # [service]: below config, which holds it
            "alerts_config",  # [alerts]: likewise
            "config",
            "admission",
            "recorder",
            "operator",
            "quiet_rows",  # the kernel's quiet runs: compiled rows, then the path over them
            "quiet_path",
            "kernel",
            "assembly",
            "policy_store",
        ],
    ),
    # run artifacts: what a run writes as it closes (below runner on purpose: the run writes
    # its diary and report; they only read files and results and never execute a run)
    ("run artifacts", ["diary", "report", "outcome", "equity_file", "trades_file"]),
    # run: execute a config, replay a run
    ("run", ["runner", "replayer"]),
    # post-run: judge finished runs, record policies
    ("post-run", ["gating", "ledger"]),
    # service: the operations API over a session's snapshots and a run's files (the paper
    # session, above it, serves it)
    ("service", ["service"]),
    # live: a paper session (runs the ledger's policies, so above it)
    ("live", ["paper"]),
    # top: islands, generated docs, the command line, the Python API and the package root
    # that re-exports it (lazily: ``import scarline.x`` does not load the API)
    # (argtypes: argparse value types for the scripts in bench/ and scripts/; __main__:
    # ``python -m scarline``, which runs the command line)
    ("top", ["cluster", "config_docs", "api", "argtypes", "cli", "__init__", "__main__"]),
]
ORDER = [unit for _, units in LAYERS for unit in units]
RANK = {unit: i for i, unit in enumerate(ORDER)}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    is_package = MODULES[importer].name == "__init__.py"
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(name: str) -> list[tuple[str, int]]:
    """``(imported scarline module, line)`` of every import in module ``name``; ``from pkg
    import x`` names the module ``pkg.x`` when there is one, else ``pkg``."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, node)
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.append((sub if sub in MODULES else source, node.lineno))
    keep = {(m, line) for m, line in found if m == "scarline" or m.startswith("scarline.")}
    return sorted(keep, key=lambda item: (item[1], item[0]))


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (or a self-loop), each
    sorted (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    out.append(sorted(component))
    return out


def test_the_order_lists_each_unit_once() -> None:
    assert len(ORDER) == len(set(ORDER)), "a unit is listed twice"


def test_every_unit_is_in_the_order() -> None:
    units = {_unit(m) for m in MODULES}
    unknown = sorted(units - set(ORDER))
    assert not unknown, f"units missing from LAYERS in tests/test_layers.py: {unknown}"
    gone = sorted(set(ORDER) - units)
    assert not gone, f"LAYERS lists units that do not exist: {gone}"


def test_no_unit_imports_a_unit_above_it() -> None:
    upward = []
    for name, imports in GRAPH.items():
        here = _unit(name)
        for target, line in imports:
            there = _unit(target)
            if there not in RANK:
                upward.append(f"{name}:{line} imports {target}: unknown unit {there!r}")
            elif RANK[there] > RANK.get(here, -1):
                upward.append(f"{name}:{line} imports {target} (a unit above {here!r})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_cycle_between_units() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for name, imports in GRAPH.items():
        edges[_unit(name)] |= {_unit(t) for t, _ in imports} - {_unit(name)}
    assert _cycles(dict(edges)) == []


def test_no_cycle_between_modules() -> None:
    edges = {name: {t for t, _ in imports if t in MODULES} for name, imports in GRAPH.items()}
    assert _cycles(edges) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"a"}}, [["a"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(
    edges: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert _cycles(edges) == expected


def test_function_level_and_relative_imports_count() -> None:
    code = "def f():\n    from scarline.runner import execute_run\n"
    tree = ast.parse(code)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert _resolve("scarline.gating.runner", node) == "scarline.runner"
    rel = ast.parse("from ..journal import verify\n").body[0]
    assert isinstance(rel, ast.ImportFrom)
    assert _resolve("scarline.gating.runner", rel) == "scarline.journal"
