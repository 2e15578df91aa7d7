"""Each recipe of docs/extending.md, run as written: it builds a toy method, backward mode, coupling, experiment or
claim, registers it with one line, and checks it works. The registries are restored afterwards."""

import re
import sys
from pathlib import Path

import pytest

import graphcon_ode.claims as claims
import solvers
from graphcon_ode.activations import ACTIVATIONS
from graphcon_ode.cli import VERBS
from graphcon_ode.couplings import COUPLINGS
from solvers.compat import SOLVERS
from solvers.registry import Registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def recipes() -> dict[str, str]:
    """Section title → its Python block."""
    text = DOC.read_text()
    found = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
        assert len(blocks) == 1, f"{title}: one code block per recipe"
        found[title] = blocks[0]
    return found


@pytest.fixture
def registries():
    """Every registry a recipe adds to, restored after the test (modules a recipe made are dropped)."""
    saved = [(registry, dict(registry)) for registry in (solvers.METHODS, solvers.BACKWARD_MODES, SOLVERS, COUPLINGS,
                                                          VERBS, claims.CLAIM_MODULES)]
    modules = set(sys.modules)
    yield
    for registry, entries in saved:
        registry.clear()
        registry.update(entries)
    for name in set(sys.modules) - modules:
        if name.startswith(("squares_experiment", "graphcon_ode.claims.toy_")):
            del sys.modules[name]


def test_every_extension_point_has_a_recipe():
    assert list(recipes()) == ["A partitioned method", "A backward mode", "A coupling", "An experiment", "A claim"]


@pytest.mark.parametrize("title", list(recipes()))
def test_recipe_runs_as_written(title, registries, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    exec(compile(recipes()[title], f"{DOC}:{title}", "exec"), {"__name__": f"recipe_{title.replace(' ', '_')}"})


@pytest.mark.parametrize("registry", [solvers.METHODS, COUPLINGS, VERBS, claims.CLAIM_MODULES, ACTIVATIONS],
                         ids=lambda registry: registry.what)
def test_a_registry_refuses_a_silent_overwrite(registry):
    assert isinstance(registry, Registry)
    name, entry = next(iter(registry.items()))
    with pytest.raises(KeyError, match=f"{registry.what} {name!r} is registered already"):
        registry[name] = object()
    assert registry[name] is entry
