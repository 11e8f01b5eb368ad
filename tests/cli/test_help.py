"""Help renders whole: no paragraph broken where the source file broke its line, no text
eaten as rich markup, every command's summary complete in ``scarline --help``."""

from __future__ import annotations

import re

import pytest
from rich.text import Text
from test_json_everywhere import command_paths
from typer.testing import CliRunner

from scarline import __version__
from scarline.cli import app

runner = CliRunner()
COMMANDS = command_paths()


def _flat(text: str) -> str:
    """Rendered help as one line: panel borders dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _plain(markup: str) -> str:
    """What rich prints for ``markup``, checked to be the text itself: a bracket pair such as
    ``float32[batch, obs]`` that is not escaped would vanish as a markup tag."""
    printed = " ".join(Text.from_markup(markup).plain.split())
    assert printed == " ".join(markup.replace("\\[", "[").split()), markup
    return printed


def _help(path: str, columns: int) -> str:
    result = runner.invoke(app, [*path.split(), "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return _flat(result.stdout)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_help_paragraphs_are_whole(path: str) -> None:
    cmd = COMMANDS[path]
    paragraphs = (cmd.help or "").split("\n\n")
    assert paragraphs[0] and cmd.short_help == paragraphs[0]
    assert all("\n" not in p for p in paragraphs)  # the terminal decides where lines break
    shown = _help(path, 80)
    for paragraph in paragraphs:
        assert _plain(paragraph) in shown


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_option_help_is_printed_whole(path: str) -> None:
    shown = _help(path, 250)
    for param in COMMANDS[path].params:
        text = getattr(param, "help", None)
        if text:
            assert _plain(text) in shown, param.name


def test_the_command_list_shows_every_summary_whole() -> None:
    shown = _help("", 80)
    for path, cmd in COMMANDS.items():
        if " " not in path:
            assert _plain(cmd.short_help) in shown, path
    assert "Exit codes: 0 ok, 1 a check failed, 2 bad input, 3 no replay parity" in shown


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"scarline {__version__}\n")
