"""The package's shape, read from its imports: data flows one way and Backtrader lives in one place.

Every import counts, at the top of a file or inside a function (an import moved into a function to
dodge a cycle is still a dependency)."""
import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ashare_sim"

# Floors from the ground up: a subpackage may import its own floor and the floors below it, never above.
LAYERS = ["resources", "common", "rules", "data", "signals", "execution", "paper", "metrics", "config", "report",
          "backtest", "research", "stress", "api", "cli"]
BELOW_EXECUTION = LAYERS[:LAYERS.index("execution") + 1]


def _imports() -> dict[tuple[str, str], list[str]]:
    """(importing subpackage, imported subpackage) -> the places, for every import inside the package."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in PACKAGE.rglob("*.py"):
        parts = f.relative_to(PACKAGE).with_suffix("").parts
        src = parts[0]
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                p = name.split(".")
                if p[0] == "ashare_sim" and len(p) > 1 and p[1] in LAYERS:
                    edges[(src, p[1])].append(f"{f.relative_to(PACKAGE.parent)}:{node.lineno} {name}")
                elif p[0] == "backtrader":
                    edges[(src, "backtrader")].append(f"{f.relative_to(PACKAGE.parent)}:{node.lineno}")
    return edges


def test_every_subpackage_has_a_floor():
    subpackages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")}
    assert subpackages | modules <= set(LAYERS), sorted((subpackages | modules) - set(LAYERS))


def test_no_subpackage_imports_one_above_it():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = {f"{a} -> {b}": where[:3] for (a, b), where in _imports().items()
              if b in rank and a in rank and a != b and rank[a] < rank[b]}
    assert not upward, upward


def test_no_cycle_between_subpackages():
    graph = defaultdict(set)
    for (a, b) in _imports():
        if a != b and b != "backtrader":
            graph[a].add(b)
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError(f"import cycle: {' -> '.join(stack[stack.index(node):] + [node])}")
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in sorted(graph):
        visit(node)


def test_backtrader_is_imported_only_by_the_backtest_subpackage():
    users = {a: where for (a, b), where in _imports().items() if b == "backtrader"}
    assert set(users) <= {"backtest"}, users


def test_the_execution_core_and_what_it_stands_on_load_without_backtrader():
    modules = [str(m.relative_to(PACKAGE.parent).with_suffix("")).replace("/", ".")
               for layer in BELOW_EXECUTION + ["paper", "metrics", "config"] for m in (PACKAGE / layer).rglob("*.py")]
    code = ("import sys, importlib\n"
            f"for m in {modules!r}:\n    importlib.import_module(m.removesuffix('.__init__'))\n"
            "print('backtrader' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
