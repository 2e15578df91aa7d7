"""Mutation score of the solvers, the GraphCON vector field and the couplings, measured with mutmut 3.

A mutant is one small edit of the library (``+`` → ``-``, ``<`` → ``<=``, a constant changed, an argument dropped);
it is *killed* when at least one test of the fast suite below fails on it. The score of a module is

    score = killed / (killed + survived),

with timeouts and crashes counted as killed (the edit changed what the code does) and mutants that no selected test
reaches ("no tests") counted as survived.

mutmut edits a copy of the sources in ``<workdir>/mutants``; this script copies the packages and the tests into a
scratch ``--workdir`` first and writes the mutmut configuration (a ``setup.cfg`` ``[mutmut]`` section) there, so the
working tree is never touched. The mutant set is large for two cores; ``--paths`` runs a part of it::

    .venv/bin/python benchmarks/mutation.py --paths solvers/methods.py solvers/grid.py
    .venv/bin/python benchmarks/mutation.py --paths graphcon_ode/field.py --survivors /tmp/field_survivors.txt

Each run prints one line per module and writes every surviving mutant with its diff to ``--survivors``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What may be mutated: every module of these packages and files, minus package markers that only list names.
TARGETS: tuple[str, ...] = ("solvers", "graphcon_ode/field.py", "graphcon_ode/couplings")
# The fast tests that concern those modules; one full run of them takes about 75 s on one core.
TESTS: tuple[str, ...] = (
    "tests/solvers",
    "tests/properties",
    "tests/graphcon_ode/couplings",
    "tests/graphcon_ode/test_validation.py",
    "tests/graphcon_ode/test_contract.py",
    "tests/graphcon_ode/test_field_mutants.py",
)
# Tests that took over 2 s each on a clean run (together about 90 s of the 120 s of the selection, at load 7); the
# mutants they would catch are the ones the quicker tests catch too, so they are left out to make the run affordable.
SLOW_TESTS: tuple[str, ...] = (
    "tests/properties/test_prop31_energy.py::test_library_schemes_conserve_their_modified_energy_at_alpha_0",
    "tests/properties/test_prop31_energy.py::test_damped_energy_decays_by_its_closed_form",
    "tests/properties/test_prop31_energy.py::test_library_verlet_keeps_the_conserved_energy_to_second_order",
    "tests/properties/test_prop31_energy.py::test_scheme_4_energy_error_stays_bounded",
    "tests/properties/test_oversmoothing_prop33_34.py::test_undamped_dirichlet_energy_does_not_decay",
    "tests/graphcon_ode/test_contract.py::test_contract_runs_as_written",
    "tests/solvers/test_grid.py::test_float32_times_with_2e7_steps_give_no_zero_length_step",
    "tests/solvers/test_backward_modes.py::test_reversible_float32_at_depth_matches_float64_per_tensor",
)
# What the tests import: the packages mutmut runs them against, plus the test tree and the pytest settings.
COPIED: tuple[str, ...] = ("solvers", "graphcon_ode", "tests", "pyproject.toml")
MUTATED_PACKAGES: tuple[str, ...] = ("solvers", "graphcon_ode")

# mutmut's exit-code classes, folded into the three the score uses.
KILLED = {"killed", "timeout", "segfault"}
SURVIVED = {"survived", "no tests"}
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    35: "suspicious",
    36: "timeout",
    -24: "timeout",
    24: "timeout",
    152: "timeout",
    255: "timeout",
    -11: "segfault",
    -9: "segfault",
    None: "not checked",
}


def module_files(paths: list[str]) -> list[str]:
    """Expand ``paths`` (files or package folders, relative to the repository root) into the ``.py`` files to mutate.

    Raises ``ValueError`` naming ``--paths`` for a path outside ``TARGETS`` or one that does not exist.
    """
    files: list[str] = []
    for path in paths:
        relative = Path(path).as_posix().rstrip("/")
        if not any(relative == t or relative.startswith(t + "/") for t in TARGETS):
            raise ValueError(f"--paths: {path!r} is not under one of {TARGETS}")
        full = ROOT / relative
        if full.is_dir():
            files += sorted(p.relative_to(ROOT).as_posix() for p in full.rglob("*.py") if p.name != "__init__.py")
        elif full.is_file() and full.suffix == ".py":
            files.append(relative)
        else:
            raise ValueError(f"--paths: {path!r} is neither a .py file nor a folder of them")
    return sorted(set(files))


def mutmut_config(files: list[str], tests: list[str]) -> str:
    """The ``[mutmut]`` section: mutate only ``files``, select tests among ``tests``, never consult git."""

    def lines(values: list[str] | tuple[str, ...]) -> str:
        return "".join(f"\n    {v}" for v in values)

    return (
        "[mutmut]\n"
        f"source_paths ={lines(MUTATED_PACKAGES)}\n"
        f"only_mutate ={lines(files)}\n"
        f"pytest_add_cli_args_test_selection ={lines(tests)}\n"
        f"pytest_add_cli_args =\n    -p\n    no:cacheprovider{lines([f'--deselect={t}' for t in SLOW_TESTS])}\n"
        "use_git_change_detection = false\n"
        "track_dependencies = false\n"
    )


def prepare(workdir: Path, files: list[str], tests: list[str]) -> None:
    """Fresh copy of the packages and tests in ``workdir`` with the mutmut configuration beside them."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, ignore=ignore)
        else:
            shutil.copy2(source, workdir / name)
    (workdir / "setup.cfg").write_text(mutmut_config(files, tests))


def exit_codes(workdir: Path, files: list[str]) -> dict[str, dict[str, int | None]]:
    """``{module: {mutant name: exit code}}`` as mutmut recorded them in the ``.meta`` files."""
    result: dict[str, dict[str, int | None]] = {}
    for file in files:
        meta = workdir / "mutants" / f"{file}.meta"
        result[file] = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    return result


def statuses(workdir: Path, files: list[str]) -> dict[str, dict[str, str]]:
    """``{module: {mutant name: status}}`` read from the ``.meta`` files mutmut writes beside each mutated module."""
    return {
        file: {name: STATUS_BY_EXIT_CODE.get(code, "suspicious") for name, code in codes.items()}
        for file, codes in exit_codes(workdir, files).items()
    }


def changed_sources(workdir: Path) -> list[str]:
    """The package files (``MUTATED_PACKAGES``) that differ between the repository and the copy in ``workdir``, or
    exist on one side only: the tests copied again on a retest would import them."""
    def sources(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for package in MUTATED_PACKAGES for p in (root / package).rglob("*.py")}

    here, there = sources(ROOT), sources(workdir)
    return sorted(name for name in here.keys() | there.keys() if here.get(name) != there.get(name))


def restore_verdicts(workdir: Path, before: dict[str, dict[str, int | None]], retested: set[str]) -> int:
    """Put back the verdicts mutmut cleared for mutants that were not retested; returns how many.

    A changed test selection makes mutmut forget every verdict, but a mutant killed by the earlier selection stays
    killed: the retest only adds tests. Only the ``retested`` survivors keep their new verdict.
    """
    restored = 0
    for file, codes in before.items():
        meta = workdir / "mutants" / f"{file}.meta"
        if not meta.exists():
            continue
        data = json.loads(meta.read_text())
        now = data["exit_code_by_key"]
        for name, code in codes.items():
            if name not in retested and code is not None and now.get(name) is None:
                now[name] = code
                restored += 1
        meta.write_text(json.dumps(data))
    return restored


def score_line(module: str, by_name: dict[str, str]) -> tuple[str, int, int]:
    """One report line for ``module`` and its (killed, survived) counts."""
    counts = Counter(by_name.values())
    killed = sum(counts[s] for s in KILLED)
    survived = sum(counts[s] for s in SURVIVED)
    score = 100.0 * killed / (killed + survived) if killed + survived else float("nan")
    other = ", ".join(f"{s} {n}" for s, n in sorted(counts.items()) if s not in {"killed", "survived"})
    return f"{module:45s} {killed:5d} / {killed + survived:5d} killed  {score:6.1f} %  {other}", killed, survived


def mutant_diff(workdir: Path, mutmut: list[str], name: str, env: dict[str, str]) -> str:
    """The diff of one mutant, as ``mutmut show`` prints it."""
    shown = subprocess.run([*mutmut, "show", name], cwd=workdir, env=env, capture_output=True, text=True, check=False)
    return shown.stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", nargs="+", default=list(TARGETS), help="modules or folders to mutate")
    parser.add_argument("--tests", nargs="+", default=list(TESTS), help="test files and folders mutmut may select")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "graphcon-ode-mutation", help="scratch copy"
    )
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once")
    parser.add_argument("--survivors", type=Path, default=None, help="survivor list (default <workdir>/survivors.txt)")
    parser.add_argument("--no-diffs", action="store_true", help="list survivor names without their diffs")
    parser.add_argument(
        "--retest-survivors",
        action="store_true",
        help="keep --workdir, refresh its tests from the repository and test only its survivors again",
    )
    parser.add_argument("--report-only", action="store_true", help="report the results already in --workdir")
    args = parser.parse_args(argv)
    if args.max_children < 1:
        parser.error(f"--max-children must be >= 1, got {args.max_children}")
    try:
        files = module_files(args.paths)
    except ValueError as error:
        parser.error(str(error))
    tests = [t for t in args.tests if (ROOT / t).exists()]
    workdir = args.workdir.resolve()
    if workdir == ROOT or ROOT in workdir.parents:
        parser.error(f"--workdir must lie outside the repository, got {workdir}")
    survivors_path = args.survivors or workdir / "survivors.txt"

    names: list[str] = []
    if args.retest_survivors or args.report_only:
        if not (workdir / "mutants").is_dir():
            parser.error(f"--workdir: {workdir} holds no earlier run to retest or report")
    else:
        prepare(workdir, files, tests)
    before: dict[str, dict[str, int | None]] = {}
    if args.retest_survivors:
        changed = changed_sources(workdir)
        if changed:
            parser.error(f"--retest-survivors: the library changed since {workdir} was made ({', '.join(changed[:5])}"
                         f"{', …' if len(changed) > 5 else ''}); its mutants no longer match: start a new --workdir")
        before = exit_codes(workdir, files)
        names = [n for by_name in statuses(workdir, files).values() for n, s in by_name.items() if s in SURVIVED]
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
        shutil.copytree(ROOT / "tests", workdir / "tests", ignore=ignore, dirs_exist_ok=True)
        # The selection is written from today's --tests, so test files added since the first run are selected too.
        (workdir / "setup.cfg").write_text(mutmut_config(files, tests))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.setdefault("GRAPHCON_DATA", str(ROOT.parent / "shared" / "data"))
    mutmut = [sys.executable, "-m", "mutmut"]
    log = workdir / "mutmut.log"
    start = time.perf_counter()
    if not args.report_only:
        with log.open("a") as out:
            run = subprocess.run(
                [*mutmut, "run", "--max-children", str(args.max_children), *names],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if run.returncode != 0:
            sys.exit(f"mutmut run failed with exit code {run.returncode}; its output is in {log}")
        if args.retest_survivors and (restored := restore_verdicts(workdir, before, set(names))):
            print(f"the test selection changed: {restored} earlier verdicts of mutants not retested were kept")
    wall = time.perf_counter() - start

    by_module = statuses(workdir, files)
    total_killed = total_survived = 0
    load = os.getloadavg()[0]
    print(f"mutmut over {len(files)} modules, tests {' '.join(tests)}; wall {wall:.0f} s; load {load:.2f} at the end")
    print("timeouts and crashes count as killed; mutants no selected test reaches count as survived")
    for module, by_name in by_module.items():
        line, killed, survived = score_line(module, by_name)
        total_killed += killed
        total_survived += survived
        print(line)
    total = total_killed + total_survived
    print(f"{'total':45s} {total_killed:5d} / {total:5d} killed  {100.0 * total_killed / max(total, 1):6.1f} %")

    survivors = [(m, n) for m, by_name in by_module.items() for n, s in sorted(by_name.items()) if s in SURVIVED]
    blocks = [f"# {name} ({by_module[module][name]})" for module, name in survivors]
    if not args.no_diffs:
        blocks = [mutant_diff(workdir, mutmut, name, env) for _, name in survivors]
    survivors_path.parent.mkdir(parents=True, exist_ok=True)
    survivors_path.write_text("\n\n".join(blocks) + "\n")
    print(f"{len(survivors)} survivors written to {survivors_path}")


if __name__ == "__main__":
    main()
