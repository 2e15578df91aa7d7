"""Command-line arguments checked before any work starts: ranges, names, the output folder and the data files.

Every verb's options are checked by their names (``dest``), so a verb gets the checks of the options it has without
code of its own: counts are positive integers, rates lie in [0, 1), learning rates and tolerances are positive,
method and backward-mode names are known. A verb may add its own checks with a ``check(args)`` function, and name
the datasets it reads with ``datasets(args)``; the raw files of those are then checked before the run, so a missing
data root or file is an error at once, not after other work.

A problem with the arguments raises :class:`UsageError`; the command prints its message as one line and exits with
status 2.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


class UsageError(ValueError):
    """A user error on the command line (a bad option value, a folder that cannot be written, missing data)."""


YES = ("yes", "true", "1")
NO = ("no", "false", "0")


def yes_no(text: str) -> bool:
    """A strict boolean option value: yes/true/1 or no/false/0 (any case); anything else is an error."""
    if text.lower() not in YES + NO:
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")
    return text.lower() in YES


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already says it or there is none to say."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (one line, exit status 2), whose help shows every
    option's default, and that takes no abbreviated option names (so that which options were given can be told
    from the command line)."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str) -> None:  # argparse's hook; it must not return
        raise UsageError(message)


def add_coefficient_arguments(parser: argparse.ArgumentParser, *, alpha: float, gamma: float,
                              step_size: float) -> None:
    """``--alpha``, ``--gamma`` and ``--step-size``: α and γ of eq. (3) and the step Δt of eq. (4), with the
    given defaults."""
    parser.add_argument("--alpha", type=float, default=alpha, help="the damping α of eq. (3)")
    parser.add_argument("--gamma", type=float, default=gamma, help="the frequency control γ of eq. (3)")
    parser.add_argument("--step-size", type=float, default=step_size, help="the step Δt of eq. (4)")


def _positive(value: Any) -> bool:
    return value > 0


def _non_negative(value: Any) -> bool:
    return value >= 0


def _rate(value: Any) -> bool:
    return 0 <= value < 1


RULES: dict[str, tuple[Callable[[Any], bool], str]] = {}
for _name in ("epochs", "splits", "inits", "layers", "hidden", "heads", "steps", "depths", "nodes", "channels",
              "threads", "repeats"):
    RULES[_name] = (_positive, "a positive integer")
for _name in ("lr", "step_size", "degree", "max_mib", "max_seconds", "reference_rtol", "rtol", "atol", "rtols"):
    RULES[_name] = (_positive, "a number > 0")
for _name in ("weight_decay", "horizon", "alpha", "gamma", "fixed_alpha", "fixed_gamma", "values", "patience",
              "attention_channels", "residual", "seed"):
    RULES[_name] = (_non_negative, "a number >= 0")
for _name in ("dropout", "input_dropout", "step_dropout", "attention_dropout", "drop_edge", "drop_edge_rate"):
    RULES[_name] = (_rate, "a rate in [0, 1)")


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _names() -> dict[str, Iterable[str]]:
    """Options whose value must be one of a set of names (read from the registries when checked)."""
    from graphcon_ode.activations import ACTIVATIONS
    from graphcon_ode.couplings import ATTENTION_SCORES, COUPLINGS
    from graphcon_ode.odeint import known_methods
    from graphcon_ode.training.loop import OPTIMIZERS
    from solvers import BACKWARD_MODES

    return {"method": known_methods(), "backward": BACKWARD_MODES, "activation": list(ACTIVATIONS) + [""],
            "attention": ATTENTION_SCORES, "coupling": COUPLINGS, "optimizer": OPTIMIZERS,
            "select": ("val_accuracy", "val_loss")}


def check_values(args: argparse.Namespace) -> None:
    """:class:`UsageError` naming the option whose value is out of its range or not a known name."""
    names = _names()
    for dest, value in vars(args).items():
        if value is None or isinstance(value, bool):
            continue
        values = value if isinstance(value, list) else [value]
        if dest in RULES:
            valid, requirement = RULES[dest]
            for v in values:
                if isinstance(v, (int, float)) and not valid(v):
                    raise UsageError(f"{_option(dest)}: must be {requirement}, got {v!r}")
        if dest in names:
            for v in values:
                if isinstance(v, str) and v not in names[dest]:
                    known = ", ".join(repr(n) for n in names[dest] if n)
                    raise UsageError(f"{_option(dest)}: unknown name {v!r}; known: {known}")


def check_out(out: str | os.PathLike) -> None:
    """:class:`UsageError` unless ``out`` is a folder that exists or can be made, and a file can be written in it."""
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out: {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test."):
            pass
    except OSError as error:
        raise UsageError(f"--out: cannot write to {path} ({error.strerror or error})") from None


def check_data(args: argparse.Namespace, datasets: Iterable[str]) -> None:
    """:class:`UsageError` when no data root is given or it is not a folder; ``MissingDatasetError`` (also a user
    error) when a raw file of one of ``datasets`` is absent."""
    from graphcon_ode.datasets import check_raw_files, resolve_data_root

    try:
        root = resolve_data_root(getattr(args, "data_root", None))
    except ValueError:
        raise UsageError("--data-root: no data root given; pass --data-root DIR or set GRAPHCON_DATA=DIR") from None
    if not root.is_dir():
        raise UsageError(f"--data-root: {root} is not a folder")
    for name in datasets:
        check_raw_files(name, root)


def given_options(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The ``dest`` of every option that appears on the command line ``argv``."""
    given = set()
    for action in parser._actions:
        for flag in action.option_strings:
            if any(word == flag or word.startswith(flag + "=") for word in argv):
                given.add(action.dest)
    return given


def given(args: argparse.Namespace, dest: str) -> bool:
    """Whether the user gave option ``dest`` on the command line (recorded by the command as ``given_options``)."""
    return dest in getattr(args, "given_options", ())


def quick(args: argparse.Namespace, dest: str, value: Any) -> Any:
    """The value of option ``dest``: ``value`` under ``--quick`` unless the user gave the option, else as given."""
    if getattr(args, "quick", False) and not given(args, dest):
        return value
    return getattr(args, dest)
