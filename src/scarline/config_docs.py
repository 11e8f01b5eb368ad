"""The config reference (docs/config.md, docs/gates-config.md), generated from the models.

The pydantic models are the one source of every key, type, default, bound and description;
a reference written by hand drifts from them (configs/default.toml once claimed to document
every key). This module is pure — a model class in, markdown out — and
``tests/test_config_docs.py`` fails when a committed page differs from what it generates.

Regenerate with ``python -m scarline.config_docs run > docs/config.md`` and
``python -m scarline.config_docs gates > docs/gates-config.md``.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from scarline.config import RunConfig
from scarline.gating.config import GatesConfig

ROOT = "top level"
"""Header of the root table (TOML gives it no header)."""


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    bounds: str
    description: str


@dataclass
class Table:
    """One TOML table of the reference: ``header`` as written in a file, e.g. ``[agents.qnet]``."""

    header: str
    model: type[BaseModel] | None
    intro: str = ""
    rows: list[Row] = field(default_factory=list)
    example: str = ""


# --- annotations ----------------------------------------------------------------------------


def _strip(ann: Any) -> tuple[Any, list[Any]]:
    """``Annotated[X, ...]`` → ``(X, its constraint metadata)``."""
    if get_origin(ann) is Annotated:
        base, *extra = get_args(ann)
        meta = [m for e in extra for m in (e.metadata if isinstance(e, FieldInfo) else [e])]
        return base, meta
    return ann, []


def _optional(ann: Any) -> tuple[Any, bool]:
    """``X | None`` → ``(X, True)``."""
    if get_origin(ann) in (Union, types.UnionType):
        args = [a for a in get_args(ann) if a is not type(None)]
        if len(args) == 1 < len(get_args(ann)):
            return args[0], True
    return ann, False


def _models(ann: Any) -> list[type[BaseModel]]:
    """The model classes an item annotation stands for (several for a union)."""
    ann, _ = _strip(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    if get_origin(ann) in (Union, types.UnionType):
        found = [m for a in get_args(ann) for m in _models(a)]
        return found if len(found) == len(get_args(ann)) else []
    return []


def _discriminator(ann: Any) -> str | None:
    for extra in get_args(ann)[1:] if get_origin(ann) is Annotated else ():
        if isinstance(extra, FieldInfo) and isinstance(extra.discriminator, str):
            return extra.discriminator
    return None


def type_name(ann: Any) -> str:
    """A reader's name for an annotation: ``list of int``, ``"a" | "b"``, ``float``."""
    ann, _ = _strip(ann)
    ann, optional = _optional(ann)
    origin = get_origin(ann)
    if origin is Literal:
        name = " | ".join(json.dumps(v) for v in get_args(ann))
    elif origin is list:
        name = f"list of {type_name(get_args(ann)[0])}"
    elif origin is dict:
        name = f"table of {type_name(get_args(ann)[1])}"
    elif isinstance(ann, type):
        name = ann.__name__
    else:
        name = str(ann)
    return f"{name}, optional" if optional else name


def _interval(meta: list[Any], var: str) -> list[str]:
    lo = next((f"{m.ge} ≤ " for m in meta if isinstance(m, at.Ge)), "")
    lo = lo or next((f"{m.gt} < " for m in meta if isinstance(m, at.Gt)), "")
    hi = next((f" ≤ {m.le}" for m in meta if isinstance(m, at.Le)), "")
    hi = hi or next((f" < {m.lt}" for m in meta if isinstance(m, at.Lt)), "")
    if not (lo or hi):
        return []
    if lo and not hi:  # "x ≥ 1" reads better than "1 ≤ x"
        value, op = lo[:-3], {"≤": "≥", "<": ">"}[lo[-2]]
        return [f"{var} {op} {value}"]
    return [f"{lo}{var}{hi}"]


def bounds(info: FieldInfo) -> str:
    """Constraints of a field (and of its list items or table values), as one phrase."""
    meta = list(info.metadata)
    parts = _interval(meta, "x")
    lo = next((m.min_length for m in meta if isinstance(m, at.MinLen)), None)
    hi = next((m.max_length for m in meta if isinstance(m, at.MaxLen)), None)
    if lo is not None and lo == hi:
        parts.append(f"length {lo}")
    elif lo is not None and hi is not None:
        parts.append(f"{lo} ≤ length ≤ {hi}")
    elif lo is not None or hi is not None:
        parts.append(f"length ≥ {lo}" if lo is not None else f"length ≤ {hi}")
    if any(getattr(m, "allow_inf_nan", None) is False for m in meta):
        parts.append("finite")
    inner, _ = _optional(info.annotation)
    if get_origin(inner) in (list, dict):
        _, item_meta = _strip(get_args(inner)[-1])
        parts += [f"each {p.removeprefix('x ')}" for p in _interval(item_meta, "x")]
    return ", ".join(parts)


# --- values ---------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A default as it would be written in TOML (``None``: the key is left out)."""
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, BaseModel):
        return toml_value(value.model_dump(mode="json"))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return str(value)


def _default(info: FieldInfo) -> Any:
    return info.get_default(call_default_factory=True)


def _emit(header: str, path: str, node: dict[str, Any], first: str | None) -> list[str]:
    """One table of a TOML example, its sub-tables after it (``None`` values left out)."""
    keys = sorted(node, key=lambda k: k != first)  # the discriminator first, else field order
    lines = [header]
    later: list[str] = []
    for key in keys:
        value = node[key]
        if isinstance(value, dict) and value:
            later += ["", *_emit(f"[{path}.{key}]", f"{path}.{key}", value, None)]
        elif value is not None:
            lines.append(f"{key} = {toml_value(value)}")
    return lines + later


def _example(path: str, value: list[Any] | dict[str, Any], tag: str | None) -> str:
    """The default of a list (or named tables) of tables, as a TOML file would hold it."""
    blocks = (
        [_emit(f"[[{path}]]", path, item, tag) for item in value]
        if isinstance(value, list)
        else [
            _emit(f"[{path}.{name}]", f"{path}.{name}", item, tag) for name, item in value.items()
        ]
    )
    return "\n\n".join("\n".join(b) for b in blocks)


def prose(doc: str | None) -> str:
    """A docstring as markdown: RST double backticks and roles become plain code spans."""
    if not doc:
        return ""
    text = inspect.cleandoc(doc).replace("``", "`")
    return re.sub(r":[a-z]+:(`[^`]+`)", r"\1", text)


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# --- walking the models ---------------------------------------------------------------------


def _first_sentence(doc: str | None) -> str:
    text = " ".join(prose(doc).split())
    return text.split(". ")[0].rstrip(".") if text else ""


def walk(model: type[BaseModel], path: str = "", header: str = ROOT) -> list[Table]:
    """Every table reachable from ``model``, depth first in field order, each once."""
    tables: list[Table] = []
    seen: set[tuple[str, type[BaseModel]]] = set()
    _walk(model, path, header, tables, seen)
    return tables


def _walk(
    model: type[BaseModel],
    path: str,
    header: str,
    tables: list[Table],
    seen: set[tuple[str, type[BaseModel]]],
    first: str | None = None,
    lead: Table | None = None,
) -> None:
    """Append ``model``'s table (its rows; ``lead`` gives a collection's intro and default),
    then its sub-tables."""
    if (header, model) in seen:
        return
    seen.add((header, model))
    intro = "\n\n".join(t for t in (lead.intro if lead else "", prose(model.__doc__)) if t)
    table = Table(header, model, intro, example=lead.example if lead else "")
    tables.append(table)
    later: list[tuple[str, FieldInfo, Any]] = []
    names = sorted(model.model_fields, key=lambda n: n != first)  # the discriminator first
    for name in names:
        info = model.model_fields[name]
        key_path = f"{path}.{name}" if path else name
        ann, _ = _optional(info.annotation)
        origin = get_origin(ann)
        subs = _models(get_args(ann)[-1] if origin in (list, dict) else ann)
        description = info.description or ""
        if not subs:
            default = toml_value(_default(info))
            table.rows.append(
                Row(name, type_name(info.annotation), default, bounds(info), description)
            )
            continue
        if origin is list:
            kind, target = "array of tables", f"[[{key_path}]]"
        elif origin is dict:
            kind, target = "tables by name", f"[{key_path}.<name>]"
        else:
            kind, target = "table", f"[{key_path}]"
        summary = description or _first_sentence(subs[0].__doc__ if len(subs) == 1 else None)
        table.rows.append(Row(name, kind, f"see `{target}`", "", summary))
        later.append((key_path, info, ann))
    for key_path, info, ann in later:
        _walk_child(key_path, info, ann, tables, seen)


def _dump(value: BaseModel, tag: str | None) -> dict[str, Any]:
    """Only what differs from the model's defaults (and the discriminator, which picks it)."""
    out = value.model_dump(mode="json", exclude_defaults=True)
    return {tag: getattr(value, tag), **out} if tag else out


def _walk_child(
    path: str,
    info: FieldInfo,
    ann: Any,
    tables: list[Table],
    seen: set[tuple[str, type[BaseModel]]],
) -> None:
    origin = get_origin(ann)
    if origin is None:
        (model,) = _models(ann)
        _walk(model, path, f"[{path}]", tables, seen)
        return
    item = get_args(ann)[-1]
    subs = _models(item)
    tag = _discriminator(item)
    header = f"[[{path}]]" if origin is list else f"[{path}.<name>]"
    default = _default(info)
    dumped: list[Any] | dict[str, Any] = (
        [_dump(v, tag) for v in default]
        if origin is list
        else {k: _dump(v, tag) for k, v in default.items()}
    )
    name = path.rsplit(".", 1)[-1]
    intro = f"`{name}`: {info.description}." if info.description else ""
    example = _example(path, dumped, tag)
    if not tag:
        (model,) = subs
        _walk(model, path, header, tables, seen, lead=Table(header, None, intro, example=example))
        return
    choices = ", ".join(f"`{m.model_fields[tag].default}`" for m in subs)
    intro += f"\n\nEach `{header}` table is one of these kinds, chosen by `{tag}`: {choices}."
    tables.append(Table(header, None, intro.strip(), example=example))
    for model in subs:
        variant = f"{header} {tag} = {json.dumps(model.model_fields[tag].default)}"
        _walk(model, path, variant, tables, seen, first=tag)


# --- markdown -------------------------------------------------------------------------------


def _heading(header: str) -> str:
    """``[[agents]] kind = "x"`` → ``### `[[agents]]` kind = "x"``."""
    if header == ROOT:
        return f"### {ROOT}"
    head, _, rest = header.partition(" ")
    return f"### `{head}` {rest}".rstrip()


def _default_cell(default: str) -> str:
    plain = default in ("unset", "required") or default.startswith("see ")
    return default if plain else f"`{default}`"


def _table_markdown(table: Table, missing: str) -> str:
    out = [_heading(table.header), ""]
    if table.model is not None:
        out += [f"Model: `{table.model.__module__}.{table.model.__qualname__}`.", ""]
    if table.intro:
        out += [table.intro, ""]
    if table.example:
        out += ["Default (keys left out take their defaults):", "", "```toml", table.example]
        out += ["```", ""]
    if table.rows:
        out += [
            "| key | type | default | bounds | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in table.rows:
            cells = (r.type, _default_cell(r.default), r.bounds, r.description or missing)
            out.append(f"| `{r.key}` | " + " | ".join(cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def markdown(model: type[BaseModel], title: str, preamble: str, missing: str = "") -> str:
    """The whole reference page of ``model``; ``missing`` stands for an absent description."""
    parts = [f"# {title}", "", preamble.strip(), ""]
    parts += [_table_markdown(t, missing) for t in walk(model)]
    return "\n".join(parts).rstrip() + "\n"


RUN_PREAMBLE = """\
<!-- Generated by `python -m scarline.config_docs run > docs/config.md`; do not edit. -->

Every key of a run config file (`scarline run --config FILE`; the files under `configs/`),
generated from `scarline.config.RunConfig` and the models it nests. A key left out takes
the default shown (only a key marked *required* must be given); *unset* means the key is
left out (`None`), which switches its feature off. An unknown key, a wrong type or a value
out of bounds is an error that names the key and the file; rules across keys (for example
`epsilon_end <= epsilon_start`, or ladder thresholds that must not decrease from WARN to
HALT) are checked too, and their errors name the keys. Every number must be usable: floats
are finite (`inf` and `nan` are refused everywhere) and integers fit in 64 bits; money is at
most 1e10 currency units (cash is int64 units of 10⁻⁸). Whether the agents fit in memory (their
networks, Adam state, replay buffers and update batches) is checked against the machine's
available memory before anything is allocated. A few values load (so a run recorded with
them replays) but a new run refuses them: `qnet.lr` above 1, `qnet.reward_scale` above 1e6,
`accounts.initial_cash` below one cash unit, and `execution.fill.participation_rate` on data
without volume. The resolved config is hashed into the run's identity
(`config_hash`). Gate thresholds are a separate file: [gates-config.md](gates-config.md).
"""

GATES_PREAMBLE = """\
<!-- Generated by `python -m scarline.config_docs gates > docs/gates-config.md`; do not edit. -->

Every key of the gates thresholds file (`scarline gates RUN_DIR --thresholds FILE`;
`configs/gates.toml` spells out the defaults), generated from
`scarline.gating.config.GatesConfig`. It is not part of the run config: changing a threshold
never changes a run, and `gates.json` records the thresholds used and their sha256. What each
gate does with its keys is explained in [gates.md](gates.md).
"""


def run_config_markdown() -> str:
    return markdown(RunConfig, "Run configuration reference", RUN_PREAMBLE)


def gates_config_markdown() -> str:
    return markdown(
        GatesConfig, "Gates thresholds reference", GATES_PREAMBLE, "see [gates.md](gates.md)"
    )


PAGES = {"run": run_config_markdown, "gates": gates_config_markdown}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in PAGES:
        print("usage: python -m scarline.config_docs run|gates", file=sys.stderr)
        return 2
    sys.stdout.write(PAGES[argv[0]]())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
