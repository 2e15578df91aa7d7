"""Every option of every verb says what it does and what its default is in ``graphcon-ode VERB --help``."""

import importlib

import pytest

from graphcon_ode.cli import VERBS, add_cli_options
from graphcon_ode.cli.arguments import Parser


def verb_parser(verb: str) -> Parser:
    parser = Parser(prog=f"graphcon-ode {verb}")
    importlib.import_module(VERBS[verb][0]).add_arguments(parser)
    add_cli_options(parser)
    return parser


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_option_has_a_help_text(verb):
    silent = [action.option_strings[0] for action in verb_parser(verb)._actions
              if action.option_strings and not (action.help or "").strip()]
    assert silent == []


@pytest.mark.parametrize("verb", list(VERBS))
def test_the_help_shows_every_default(verb):
    parser = verb_parser(verb)
    text = "".join(parser.format_help().split())  # the help wraps lines, also at hyphens
    for action in parser._actions:
        if action.option_strings and action.default not in (None, False) and action.dest != "help":
            shown = "".join(f"(default:{action.default})".split())
            assert "default" in (action.help or "") or shown in text, action.dest
