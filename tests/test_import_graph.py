"""The import graph of graphcon_ode, solvers and experiments: no circle (late imports inside functions included),
calls only downward (solvers knows nothing of graphcon_ode, the library nothing of experiments), no re-exports."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graphcon_ode", "solvers", "experiments")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports anywhere in its file (module level or inside a function): for
    ``from a.b import c`` the module ``a.b.c`` when it is one, else ``a.b``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known and target != name)
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), as a sorted list."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return result


def test_the_walk_sees_late_and_relative_imports_and_finds_a_planted_circle(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from .odeint import odeint\n    import solvers.grid\n")
    known = {"graphcon_ode.odeint", "solvers.grid", "graphcon_ode.late"}
    assert imported("graphcon_ode.late", module, known) == {"graphcon_ode.odeint", "solvers.grid"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle_anywhere():
    assert cycles(graph()) == []


@pytest.mark.parametrize(("lower", "upper"), [("solvers", "graphcon_ode"), ("solvers", "experiments"),
                                             ("graphcon_ode", "experiments")])
def test_imports_go_downward_only(lower, upper):
    upward = {name: sorted(t for t in targets if t.split(".")[0] == upper)
              for name, targets in graph().items() if name.split(".")[0] == lower}
    assert {name: targets for name, targets in upward.items() if targets} == {}


def test_no_module_re_exports_what_it_imports():
    """Only a package's ``__init__`` gathers its members' names; a plain module never keeps an import for others."""
    offenders = []
    for path in modules().values():
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        imported_names = {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                          for alias in node.names}
        exported = [name for node in tree.body if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                    for name in ast.literal_eval(node.value)]
        if "noqa: F401" in path.read_text() or imported_names & set(exported):
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_a_verb_imports_no_other_verb():
    from graphcon_ode.cli import VERBS

    verbs = {module for module, _ in VERBS.values()}
    edges = graph()
    crossing = {verb: sorted(edges[verb] & verbs) for verb in verbs if edges[verb] & verbs}
    assert crossing == {}
