"""The diary is read-only, twice over.

:func:`check_sql` accepts one statement that starts with ``SELECT``, ``WITH``, ``FROM``,
``DESCRIBE``, ``SUMMARIZE`` or ``VALUES`` (after comments), that DuckDB's own parser types as
a query, and that calls no function that reads files or other databases (``read_csv``,
``read_parquet``, ``glob`` …): ``COPY``, ``ATTACH``, ``INSTALL``, ``LOAD``, ``PRAGMA``,
``SET``, ``CREATE``, ``INSERT`` and several statements are refused before DuckDB runs
anything. And :func:`locked_connection` opens DuckDB with ``enable_external_access =
false`` (the diary file alone in ``allowed_paths``), extension auto-install and auto-load
off and ``lock_configuration = true``, so a query that slipped past the first check still
cannot read, write or attach another file, install or load an extension, or switch any of
that back on.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from scarline.diary.schema import DiaryError

ALLOWED_STARTS = ("SELECT", "WITH", "DESCRIBE", "FROM", "SUMMARIZE", "VALUES")
"""The first keyword of an accepted statement (after comments): DuckDB's FROM-first
``FROM diary LIMIT 5`` and ``SUMMARIZE diary`` are queries too (the parser says SELECT)."""
_ACCEPTED = "SELECT, WITH, FROM, DESCRIBE, SUMMARIZE or VALUES"

_FILE_FUNCTIONS = re.compile(
    r"\b(read_\w+|parquet_\w+|\w*_scan|glob|sniff_csv|query_table|query|iceberg_\w+|"
    r"delta_\w+|sqlite_\w+|postgres_\w+|mysql_\w+)\s*\(",
    re.IGNORECASE,
)
"""Table functions that read files or other databases: the diary is the view ``diary``."""


class DiaryQueryError(DiaryError):
    """The SQL failed or is refused; the message is DuckDB's (or the refusal), on one line."""


def one_line(err: duckdb.Error) -> str:
    """DuckDB's message up to its ``LINE 1: …`` context (the first blank line), on one line."""
    head = str(err).split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())


def code_of(sql: str) -> str:
    """``sql`` without comments, string literals and quoted identifiers (each blanked to a
    space), so keywords and function names can be looked for in what remains."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        two = sql[i : i + 2]
        if two == "--":
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif two == "/*":
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif sql[i] in "'\"":
            end = sql.find(sql[i], i + 1)
            i = n if end < 0 else end + 1
        else:
            out.append(sql[i])
            i += 1
            continue
        out.append(" ")
    return "".join(out)


def check_sql(sql: str) -> str:
    """``sql`` if it is one read-only query over the diary; :class:`DiaryQueryError` naming
    what is refused otherwise (DuckDB's parser error for SQL that does not parse)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise DiaryQueryError(f"SQL: {one_line(err)}") from None
    if len(statements) != 1:
        raise DiaryQueryError(
            f"SQL: {len(statements)} statements; only one {_ACCEPTED} is accepted"
        )
    code = code_of(sql).strip().rstrip(";").strip()
    first = code.split(None, 1)[0].upper() if code else ""
    if first not in ALLOWED_STARTS:
        raise DiaryQueryError(
            f"SQL: only one {_ACCEPTED} statement is accepted, got "
            f"{first or 'nothing'!r} (the diary is read-only)"
        )
    called = _FILE_FUNCTIONS.search(code)
    if called is not None:
        raise DiaryQueryError(
            f"SQL: {called.group(1)}() is refused: query the views `diary` and `lineage`, not files"
        )
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        raise DiaryQueryError(f"SQL: {kind} statements are refused (the diary is read-only)")
    return sql


def quoted(path: Path) -> str:
    """``path`` as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def locked_connection(*paths: Path) -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB that can read ``paths`` (absolute) and nothing else, settings locked.

    The progress bar is off: DuckDB draws it on stdout after two seconds, inside ``--json``.
    """
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET allowed_paths = [{', '.join(quoted(p) for p in paths)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
