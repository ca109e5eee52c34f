"""The package's import graph has no cycle: every import counts, those inside functions
too (they run when the function does), but not those only for the type checker."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mmschema"


def module_files() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def for_type_checker_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_names(name: str, path: Path, modules: set[str]) -> set[str]:
    """The package's modules that importing `name` runs, each package on the way included
    (importing a.b.c runs a/b/__init__.py first), its own packages left out."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    named: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if for_type_checker_only(child):
                assert isinstance(child, ast.If)
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                named.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, *([child.module] if child.module else [])])
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    named.add(sub if sub in modules else base)
            visit(child)

    visit(ast.parse(path.read_text()))
    runs: set[str] = set()
    for target in named:
        parts = target.split(".")
        runs.update(".".join(parts[:n]) for n in range(1, len(parts) + 1))
    return {m for m in runs if m in modules and m != name and not name.startswith(m + ".")}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imported_names(name, path, set(files)) for name, path in files.items()}


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph[node]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                found = visit(target)
                if found:
                    return found
        on_path.discard(path.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def test_the_finder_finds_a_cycle() -> None:
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert a_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = import_graph()
    assert "mmschema.commands" in graph["mmschema.cli"]  # imported in main()
    assert "mmschema.kinds.views" in graph["mmschema.pipeline.kinds"]


def test_no_module_of_the_package_imports_itself_back() -> None:
    cycle = a_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])
