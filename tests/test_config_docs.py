"""docs/config.md and docs/gates-config.md are generated from the models and kept current,
and every key of the run config is documented with a description."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel, Field

from scarline.config import RunConfig
from scarline.config_docs import gates_config_markdown, markdown, run_config_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.mark.parametrize(
    ("page", "render", "which"),
    [
        ("config.md", run_config_markdown, "run"),
        ("gates-config.md", gates_config_markdown, "gates"),
    ],
)
def test_committed_page_is_what_the_models_generate(
    page: str, render: Callable[[], str], which: str
) -> None:
    committed = (DOCS / page).read_text(encoding="utf-8")
    assert committed == render(), (
        f"docs/{page} is out of date: python -m scarline.config_docs {which} > docs/{page}"
    )


def _models(ann: object) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    return [m for a in get_args(ann) for m in _models(a)]


def _fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, type[BaseModel], str]]:
    """(TOML path, model, field name) of every leaf key; a table of named tables is <name>."""
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        nested = _models(info.annotation)
        if not nested:
            yield path, model, name
        for sub in nested:
            yield from _fields(
                sub, f"{path}.<name>" if get_origin(info.annotation) is dict else path
            )


def _documented(text: str) -> set[str]:
    """Paths the page documents: each ``### `[table]``` heading, then its ``| `key` |`` rows."""
    paths, prefix = set(), None
    for line in text.splitlines():
        if line.startswith("### "):
            m = re.match(r"### (?:`\[\[?([^\]`]+)\]\]?`|top level)", line)
            assert m, line
            prefix = m.group(1) or ""
        elif line.startswith("| `") and prefix is not None:
            key = line.split("`")[1]
            paths.add(f"{prefix}.{key}" if prefix else key)
    return paths


def test_every_run_config_key_is_in_the_page() -> None:
    leaves = {path for path, _, _ in _fields(RunConfig)}
    assert {"agents.qnet.double", "regime.router.profiles.<name>.entry", "seed"} <= leaves
    missing = leaves - _documented((DOCS / "config.md").read_text(encoding="utf-8"))
    assert not missing, f"undocumented keys: {sorted(missing)}"


def test_every_run_config_key_has_a_description() -> None:
    bare = sorted(
        f"{path} ({model.__name__})"
        for path, model, name in _fields(RunConfig)
        if not (model.model_fields[name].description or "").strip()
    )
    assert not bare, f"add Field(description=...) for: {bare}"


class _Inner(BaseModel):
    """Inner table."""

    flag: bool = Field(default=False, description="a switch")


Windows = list[Annotated[int, Field(ge=2)]]


class _Demo(BaseModel):
    """Demo root."""

    rate: float = Field(default=0.5, gt=0, le=1, allow_inf_nan=False, description="a rate")
    limit: int | None = Field(default=None, ge=1, description="off when unset")
    windows: Windows = Field(default_factory=lambda: [2, 5], min_length=1, description="w")
    mode: Literal["a", "b"] = Field(default="a", description="pick | one")
    inner: _Inner = Field(default_factory=_Inner, description="nested")
    named: dict[str, _Inner] = Field(default_factory=lambda: {"x": _Inner(flag=True)})


def test_rows_show_type_default_bounds_and_description() -> None:
    page = markdown(_Demo, "Demo", "intro", missing="(none)")
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert rows[:4] == [
        "| `rate` | float | `0.5` | 0 < x ≤ 1, finite | a rate |",
        "| `limit` | int, optional | unset | x ≥ 1 | off when unset |",
        "| `windows` | list of int | `[2, 5]` | length ≥ 1, each ≥ 2 | w |",
        '| `mode` | "a" \\| "b" | `"a"` |  | pick \\| one |',
    ]
    assert "| `inner` | table | see `[inner]` |  | nested |" in rows
    assert "### `[inner]`" in page and "### `[named.<name>]`" in page
    assert "[named.x]\nflag = true" in page  # the default, only what differs from defaults
    assert "| `named` | tables by name | see `[named.<name>]` |  | Inner table |" in rows


def test_config_comments_point_at_real_docs_and_real_commands() -> None:
    for path in sorted((ROOT / "configs").glob("*.toml")):
        comments = "\n".join(
            line.split("#", 1)[1] for line in path.read_text().splitlines() if "#" in line
        )
        for doc in re.findall(r"docs/[\w.-]+\.md", comments):
            assert (ROOT / doc).is_file(), f"{path.name} points at missing {doc}"
        for cmd in re.findall(r"scarline run (\S+)", comments):
            assert cmd in ("-c", "--config"), f"{path.name}: `scarline run {cmd}` (takes --config)"
