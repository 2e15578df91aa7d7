"""Layout rules: the library never imports the experiments, and torchdiffeq's internals are imported in one place."""

import subprocess
import sys
from pathlib import Path

import pytest

from solvers import compat

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_library_imports_no_experiment():
    code = ("import graphcon_ode, graphcon_ode.cli, graphcon_ode.cli.verify, graphcon_ode.cli.demo, sys; "
            "print(sorted(m for m in sys.modules if m.startswith('experiments')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_torchdiffeq_internals_are_imported_only_by_the_compat_module():
    users = [path.relative_to(ROOT).as_posix() for folder in ("graphcon_ode", "solvers", "experiments", "benchmarks")
             for path in (ROOT / folder).rglob("*.py") if "torchdiffeq._impl" in path.read_text()]
    assert users == ["solvers/compat.py"]


@pytest.mark.parametrize("version", ["0.2.4", "0.3.0", "1.0"])
def test_an_unsupported_torchdiffeq_is_a_clear_import_error(version):
    expected = rf"torchdiffeq {version} is not supported.*pip install 'torchdiffeq>=0\.2\.5,<0\.3'"
    with pytest.raises(ImportError, match=expected):
        compat.check_version(version)


def test_the_pinned_range_is_the_one_checked():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"torchdiffeq{",".join(compat.SUPPORTED)}"' in pyproject
    compat.check_version("0.2.5")
