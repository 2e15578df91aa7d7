"""Every verb checks every argument before any work: a user error is one line on stderr and exit status 2."""

import argparse
import importlib

import pytest

from graphcon_ode.cli import VERBS, add_cli_options, main, prepare
from graphcon_ode.cli.arguments import RULES, Parser, UsageError, quick

VERB_NAMES = list(VERBS)


def verb_parser(verb):
    module = importlib.import_module(VERBS[verb][0])
    parser = Parser(prog=verb)
    module.add_arguments(parser)
    add_cli_options(parser)
    return module, parser


@pytest.fixture
def no_run(monkeypatch):
    """Any verb that starts its work fails the test: the errors must come before it."""
    def refuse(args):
        raise AssertionError("the verb started working")

    for module_name, _ in VERBS.values():
        monkeypatch.setattr(importlib.import_module(module_name), "run", refuse)


def one_line_error(capsys, verb, fragment):
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"graphcon-ode {verb}: error: ") and fragment in err, err


def out_args(verb, tmp_path, data_root):
    _, parser = verb_parser(verb)
    args = []
    if "--out" in parser._option_string_actions:
        args += ["--out", str(tmp_path / "out")]
    if "--data-root" in parser._option_string_actions:
        args += ["--data-root", str(data_root)]
    return args


@pytest.mark.parametrize("verb", VERB_NAMES)
def test_unknown_option_is_one_line_and_status_2(verb, no_run, capsys, tmp_path, data_root):
    assert main([verb, "--no-such-option", "1", *out_args(verb, tmp_path, data_root)]) == 2
    one_line_error(capsys, verb, "--no-such-option")


@pytest.mark.parametrize("verb", VERB_NAMES)
def test_every_ranged_option_is_checked_before_work(verb, no_run, capsys, tmp_path, data_root):
    """Each numeric option with a rule is given -1 (outside every rule's range) and must be refused by name."""
    _, parser = verb_parser(verb)
    ranged = [a for a in parser._actions if a.dest in RULES and a.type in (int, float) and a.option_strings]
    assert ranged, "every verb has at least --threads"
    for action in ranged:
        assert main([verb, action.option_strings[0], "-1", *out_args(verb, tmp_path, data_root)]) == 2
        one_line_error(capsys, verb, action.option_strings[0])


@pytest.mark.parametrize("verb", VERB_NAMES)
def test_unwritable_out_is_refused_before_work(verb, no_run, capsys, tmp_path, data_root):
    _, parser = verb_parser(verb)
    if "--out" not in parser._option_string_actions:
        pytest.skip(f"{verb} writes no files")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    rest = ["--data-root", str(data_root)] if "--data-root" in parser._option_string_actions else []
    for out, fragment in ((blocker, "exists and is not a folder"), (blocker / "below", "cannot write")):
        assert main([verb, "--out", str(out), *rest]) == 2
        one_line_error(capsys, verb, f"--out: {out}" if out == blocker else fragment)


@pytest.mark.parametrize("verb", VERB_NAMES)
def test_missing_data_root_is_refused_before_work(verb, no_run, capsys, tmp_path, monkeypatch):
    module, parser = verb_parser(verb)
    if "--data-root" not in parser._option_string_actions:
        pytest.skip(f"{verb} reads no datasets")
    out = ["--out", str(tmp_path / "out")] if "--out" in parser._option_string_actions else []
    assert main([verb, "--data-root", str(tmp_path / "nowhere"), *out]) == 2
    one_line_error(capsys, verb, "--data-root")
    if hasattr(module, "datasets"):
        monkeypatch.delenv("GRAPHCON_DATA", raising=False)
        assert main([verb, *out]) == 2
        one_line_error(capsys, verb, "no data root given")
        assert main([verb, "--data-root", str(tmp_path), *out]) == 2
        one_line_error(capsys, verb, "raw file(s) missing")


def test_unknown_backward_mode_is_named(no_run, capsys, tmp_path, data_root):
    argv = ["node-classification", "--backward", "foo", "--out", str(tmp_path), "--data-root", str(data_root)]
    assert main(argv) == 2
    one_line_error(capsys, "node-classification", "--backward: unknown name 'foo'")


def test_debug_shows_the_traceback(no_run, tmp_path):
    with pytest.raises(UsageError, match="--epochs: must be a positive integer, got 0"):
        main(["demo", "--epochs", "0", "--debug"])


def test_quick_sets_only_what_the_user_did_not_set(data_root, tmp_path):
    module, parser = verb_parser("node-classification")
    args = prepare(module, parser, ["--quick", "--splits", "3", "--dataset", "texas", "--data-root", str(data_root),
                                    "--out", str(tmp_path)])
    assert quick(args, "splits", 1) == 3 and quick(args, "inits", 1) == 1
    args = prepare(module, parser, ["--splits", "3", "--dataset", "texas", "--data-root", str(data_root), "--out",
                                    str(tmp_path)])
    assert quick(args, "inits", 1) is None, "without --quick an option keeps its own default"


def test_quick_without_a_command_line_keeps_the_old_meaning():
    args = argparse.Namespace(quick=True, splits=3)
    assert quick(args, "splits", 1) == 1


def test_geom_gcn_split_count_is_checked(no_run, capsys, tmp_path, data_root):
    argv = ["node-classification", "--dataset", "texas", "--splits", "11", "--out", str(tmp_path), "--data-root",
            str(data_root)]
    assert main(argv) == 2
    one_line_error(capsys, "node-classification", "--splits: the geom-gcn datasets have 10 splits")


@pytest.mark.parametrize(("verb", "argv", "fragment"), [
    ("node-classification", ["--dataset", "minesweeper", "--norm", "maybe"], "--norm: expected yes or no, got 'maybe'"),
    ("node-classification", ["--per-step", "sure"], "--per-step: expected yes or no"),
    ("node-classification", ["--uniform-init", "False!"], "--uniform-init: expected yes or no"),
    ("node-classification", ["--protocol", "strict"], "--protocol: invalid choice: 'strict'"),
    ("node-classification", ["--gat-form", "theirs"], "--gat-form: invalid choice: 'theirs'"),
    ("graph-regression", ["--pool", "max"], "--pool: invalid choice: 'max'"),
])
def test_a_choice_valued_option_takes_only_its_choices(verb, argv, fragment, no_run, capsys, tmp_path):
    assert main([verb, *argv, "--out", str(tmp_path)]) == 2
    one_line_error(capsys, verb, fragment)
