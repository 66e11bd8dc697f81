"""The import rules of ARCHITECTURE.md, checked on the source with `ast`.

Every import counts, including those inside functions (they run on a worker
as surely as top-level ones), and importing a module also runs its packages'
``__init__``. The folders map to module names as pyproject.toml's
``package-dir`` says (``transforms/`` is ``newswatch.transforms``).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The layers, lowest first: a module may import its own layer and those below.
LAYERS = ("core", "http", "transforms", "sinks", "alerts", "pipelines", "commands", "cli")


def layer_of(module: str) -> str | None:
    """The layer of a project module (None: not assigned, see ARCHITECTURE.md)."""
    if module in ("newswatch.cli",) or module.startswith("newswatch.cli_"):
        return "cli"
    if module in ("newswatch.status", "newswatch.evaluate") or module.startswith(("newswatch.demo.", "newswatch.report")) \
            or module == "newswatch.demo":
        return "commands"
    for layer in ("pipelines", "alerts", "sinks", "transforms"):
        if module == f"newswatch.{layer}" or module.startswith(f"newswatch.{layer}."):
            return layer
    if module == "newswatch.http" or module.startswith("newswatch.http."):
        return "http"
    core = {"newswatch", "newswatch.records", "newswatch.config", "newswatch.clock", "newswatch.tables"}
    return "core" if module in core else None


def project_modules() -> dict[str, Path]:
    """Module name -> source file, for every .py under the project's package folders."""
    package_dir = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    modules: dict[str, Path] = {}
    for package, folder in package_dir.items():
        if "." in package and package.rsplit(".", 1)[0] in package_dir and folder.startswith(
                package_dir[package.rsplit(".", 1)[0]] + "/"):
            continue  # a subpackage inside its parent's folder: found by the parent's walk
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(REPO / folder).with_suffix("").parts if p != "__init__"]
            modules[".".join([package, *parts])] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module that `import name` runs last (itself, or the package it names an attribute of)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports, anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                    base = ".".join(anchor + ([base] if base else []))
                # `from pkg import mod` imports the submodule; `from mod import name` only mod.
                names = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for name in names:
                target = _resolve(name, modules)
                while target:  # importing a.b.c also runs a and a.b
                    targets.add(target)
                    target = _resolve(target.rpartition(".")[0], modules)
        targets.discard(module)
        graph[module] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The shortest cycle through each module that is on one, as paths that return to their start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan; the project is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles: list[list[str]] = []
    for group in groups:
        for start in sorted(group):
            cycle = _cycle_through(start, group, graph)
            turn = cycle.index(min(cycle[:-1]))  # one spelling per cycle, whichever member it starts from
            cycle = cycle[turn:-1] + cycle[:turn] + [cycle[turn]]
            if cycle not in cycles:
                cycles.append(cycle)
    return cycles


def _cycle_through(start: str, group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle from `start` back to itself inside its group (breadth-first)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    return paths[node] + [start]
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle in strongly connected group {sorted(group)}")


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(project_modules())


def test_no_import_cycles(graph):
    cycles = find_cycles(graph)
    assert not cycles, "import cycles between project modules:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_every_module_has_a_layer(graph):
    unassigned = sorted(m for m in graph if layer_of(m) is None)
    assert not unassigned, (
        f"modules with no layer: {unassigned}; give each one in layer_of() here and in ARCHITECTURE.md")


def test_imports_go_down_the_layers(graph):
    rank = {layer: n for n, layer in enumerate(LAYERS)}
    upward = sorted(
        f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
        for module, targets in graph.items() for target in targets
        if layer_of(module) and layer_of(target) and rank[layer_of(target)] > rank[layer_of(module)]
    )
    assert not upward, "imports against the layers (" + " < ".join(LAYERS) + "):\n" + "\n".join(upward)


def test_the_checker_sees_cycles_and_function_level_imports(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import c\n")
    (pkg / "c.py").write_text("import pkg.a as a\n")
    modules = {f"pkg.{p.stem}" if p.stem != "__init__" else "pkg": p for p in pkg.glob("*.py")}
    assert find_cycles(import_graph(modules)) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


STAGE_MODULES = {"newswatch.transforms.feeds", "newswatch.transforms.fetch",
                 "newswatch.transforms.extract_text", "newswatch.transforms.schedule"}


def is_stage(module: str) -> bool:
    """A stage is a top-level module of transforms/ or the ``step`` module of a stage folder."""
    return module in STAGE_MODULES or (module.startswith("newswatch.transforms.") and module.endswith(".step"))


def test_helpers_never_import_a_stage_and_stage_folders_import_nothing_on_import(graph):
    transforms = [m for m in graph if m.startswith("newswatch.transforms.")]
    helpers = [m for m in transforms if not is_stage(m) and m.count(".") == 3]
    assert "newswatch.transforms.mentions.rules" in helpers and "newswatch.transforms.shared.canonical" in helpers
    upward = {m: sorted(i for i in graph[m] if is_stage(i)) for m in helpers}
    assert {m: i for m, i in upward.items() if i} == {}, "a helper imports a stage"
    shared = {m: sorted(i for i in graph[m] if i.startswith("newswatch.transforms.")
                        and not i.startswith("newswatch.transforms.shared."))
              for m in helpers if m.startswith("newswatch.transforms.shared.")}
    assert {m: i for m, i in shared.items() if i} == {}, "a shared helper depends on one stage's helpers"
    for folder in ("dedup", "mentions", "incidents", "shared"):
        init = REPO / "transforms" / folder / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))], init


# Only the storage room talks SQL to DuckDB (ARCHITECTURE.md, "one store"): everyone else asks a
# `Store` or its `Session` (sinks/store.py). The alert outbox's SQL lives in a storage module in sinks/ too.
SQL_OWNERS = ("newswatch.sinks",)
# Methods of a DuckDB connection, relation or cursor that run SQL or fetch a result. A call of any of
# these names counts, whatever the receiver is called, so renaming `con` does not hide one.
SQL_METHODS = {"execute", "executemany", "sql", "cursor", "register", "unregister",
               "fetchone", "fetchall", "fetchmany", "fetchdf", "fetchnumpy", "fetch_arrow_table"}
# Everything in sinks/ that hands out a raw connection. With none of these, and no `import duckdb`, a
# module has no connection to call `.query()` on but a store's: `Store.query` and `Session.query`
# (a user's SQL, a report's printed SQL) are the one way SQL text leaves a command.
# `store.reader()` and its kind take no argument (unlike `csv.writer(buf)`), in a `with` or not.
CONNECTION_CONTEXTS = {"reader", "writer", "transaction"}
CONNECTION_FUNCTIONS = {"open_parquet", "create_views", "connect_when_free", "_open_through_beam"}
# Modules that may hold a store's transaction without running SQL in it: the alert outbox decides
# (once per story, leases, backoff) and writes in one transaction, so it opens one and hands the
# connection to sinks/outbox_store.py's statements. SQL methods and `import duckdb` still fail there.
TRANSACTION_HOLDERS = {"newswatch.alerts.outbox"}


def sql_outside_the_store(modules: dict[str, Path]) -> list[str]:
    """`module:line what` for each way a module outside SQL_OWNERS reaches DuckDB itself."""
    found = []
    for module, path in modules.items():
        if module in SQL_OWNERS or module.startswith(tuple(f"{owner}." for owner in SQL_OWNERS)):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [f"{module}:{node.lineno} import {a.name}" for a in node.names
                          if a.name.split(".")[0] == "duckdb"]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                if (node.module or "").split(".")[0] == "duckdb":
                    found.append(f"{module}:{node.lineno} from {node.module} import")
                found += [f"{module}:{node.lineno} import {a.name}" for a in node.names
                          if a.name in CONNECTION_FUNCTIONS]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in SQL_METHODS | CONNECTION_FUNCTIONS:
                    found.append(f"{module}:{node.lineno} .{node.func.attr}(...)")
                elif node.func.attr in CONNECTION_CONTEXTS and not node.args and not node.keywords \
                        and module not in TRANSACTION_HOLDERS:
                    found.append(f"{module}:{node.lineno} .{node.func.attr}()")
    return sorted(found)


def test_only_the_store_runs_sql():
    found = sql_outside_the_store(project_modules())
    assert not found, "SQL outside the store (ask sinks/store.py's Store or Session):\n" + "\n".join(found)


def test_the_sql_check_sees_connections_under_any_name(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "cmd.py").write_text(
        "def f(store):\n"
        "    import duckdb as db\n"
        "    with store.reader() as anything:\n"
        "        return anything.execute('SELECT 1').fetchone()\n"
        "def g(store, buf):\n"
        "    with store.session() as s:\n"
        "        return s.query('SELECT 1'), store.query('SELECT 2'), csv.writer(buf)\n"
        "def h(store):\n"
        "    held = store.transaction()\n")
    (pkg / "lake.py").write_text("from duckdb import connect\nfrom x.parquet_read import open_parquet\n")
    found = sql_outside_the_store({"pkg.cmd": pkg / "cmd.py", "pkg.lake": pkg / "lake.py"})
    assert found == ["pkg.cmd:2 import duckdb", "pkg.cmd:3 .reader()", "pkg.cmd:4 .execute(...)",
                     "pkg.cmd:4 .fetchone(...)", "pkg.cmd:9 .transaction()", "pkg.lake:1 from duckdb import",
                     "pkg.lake:2 import open_parquet"]
