"""Help text from docstrings that renders whole: the terminal, not the source file, decides
where a line breaks, and brackets (``float32[batch, obs]``) are text, not rich markup."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.markup import escape

F = TypeVar("F", bound=Callable[..., object])


def help_text(doc: str | None) -> str:
    """``doc`` with each paragraph on one line and rich markup escaped."""
    paragraphs = (" ".join(p.split()) for p in inspect.cleandoc(doc or "").split("\n\n"))
    return "\n\n".join(escape(p) for p in paragraphs if p)


def short_help(doc: str | None) -> str:
    """The first paragraph: what ``scarline --help`` lists next to the command."""
    return help_text(doc).split("\n\n")[0]


def command(app: typer.Typer, name: str) -> Callable[[F], F]:
    """Register the decorated function as command ``name`` of ``app``, its docstring as help."""

    def register(func: F) -> F:
        app.command(name, help=help_text(func.__doc__), short_help=short_help(func.__doc__))(func)
        return func

    return register


def group(text: str) -> typer.Typer:
    """A sub-command group (``scarline wal`` …) whose help renders like the rest."""
    return typer.Typer(help=help_text(text), no_args_is_help=True, rich_markup_mode="rich")
