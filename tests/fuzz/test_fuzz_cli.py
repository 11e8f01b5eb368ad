"""Malformed input through the whole CLI, in-process: the corpus of CSVs and configs, a list of
bad command lines, and hypothesis-made variations of both. Nothing may end in a traceback
or an ``internal error``; every refusal exits 1 or 2 with an ``error`` line that names what is
wrong, and a refused run leaves no run directory behind."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from bad_args import BAD_ARGS
from fuzz_helpers import CORPUS, FuzzRun, invoke, no_run_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from make_corpus import BASE_TOML, CONFIG_CASES, CSV_CASES, NO_DATA, base_rows, text, write

CSVS = sorted((CORPUS / "csv").glob("*.csv"))
CONFIGS = sorted((CORPUS / "config").glob("*.toml"))


def test_the_corpus_is_what_the_script_writes(tmp_path: Path) -> None:
    assert write(tmp_path) == (len(CSV_CASES), len(CONFIG_CASES))
    for sub in ("csv", "config"):
        made = {p.name: p.read_bytes() for p in (tmp_path / sub).iterdir()}
        kept = {p.name: p.read_bytes() for p in (CORPUS / sub).iterdir()}
        assert made == kept, f"run: python {CORPUS / 'make_corpus.py'}"
    assert (tmp_path / "base.csv").read_bytes() == (CORPUS / "base.csv").read_bytes()


def test_the_corpus_is_big_enough() -> None:
    assert len(CSVS) >= 60 and len(CONFIGS) >= 80 and len(BAD_ARGS) >= 80
    assert len({p.read_bytes() for p in CSVS}) == len(CSVS)  # all different
    assert len({p.read_bytes() for p in CONFIGS}) == len(CONFIGS)


def _run(config: Path, data: Path | None, out: Path, *extra: str) -> tuple[int, str]:
    args = ["run", "-c", str(config), "--out", str(out), *extra]
    if data is not None:
        args += ["--data", str(data)]
    outcome = invoke(args)
    return outcome.code, outcome.stderr


@pytest.mark.parametrize("path", CSVS, ids=lambda p: p.stem)
def test_a_malformed_csv_is_refused_by_data_check_and_by_run(
    path: Path, fuzz_run: FuzzRun, tmp_path: Path
) -> None:
    check = invoke(["data", "check", str(path)])
    assert check.code in (1, 2), check.output
    if check.code == 2:  # the file does not parse: one line naming the file (and line)
        assert check.stderr.startswith("error: ") and str(path) in check.stderr
    else:  # it parses, G0 finds errors: the report names rows and lines
        assert "error " in check.stdout and "FAILED" in check.stdout
    out = tmp_path / "out"
    code, err = _run(fuzz_run.config, path, out)
    assert code == 2, err  # refused as bad input, like any bad data
    assert err.startswith("error: ") and str(path) in err, err
    assert no_run_dir(out)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_a_malformed_config_is_refused(path: Path, fuzz_run: FuzzRun, tmp_path: Path) -> None:
    data = None if path.read_bytes().startswith(NO_DATA.encode()) else fuzz_run.data
    out = tmp_path / "out"
    code, err = _run(path, data, out)
    assert code == 2, err
    first = err.splitlines()[0]
    assert first.startswith("error: ")
    named = [str(path), "agents", "data", str(fuzz_run.data)]  # the file, the key or the data
    if data is None:  # the case is about data.source: the message names it
        named.append(tomllib.loads(path.read_text(encoding="utf-8"))["data"]["source"] or "''")
    assert any(n in err for n in named), err
    assert no_run_dir(out)


@pytest.mark.parametrize("name", sorted(BAD_ARGS))
def test_a_bad_command_line_is_one_error(name: str, fuzz_run: FuzzRun, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("not a run, not a ledger\n", encoding="utf-8")
    (tmp_path / "bad.toml").write_bytes(b'name = "\xff\xfe"\n')
    values = {
        "t": str(tmp_path),
        "run": str(fuzz_run.run_dir),
        "cfg": str(fuzz_run.config),
        "csv": str(fuzz_run.data),
        "file": str(tmp_path / "file.txt"),
        "nonutf8": str(tmp_path / "bad.toml"),
        "empty": str(tmp_path / "empty"),
        "missing": str(tmp_path / "missing"),
    }
    args = [a.format(**values) for a in BAD_ARGS[name]]
    before = sorted(p.name for p in fuzz_run.root.iterdir())
    outcome = invoke(args)
    assert outcome.code in (1, 2), outcome.output
    assert "error" in outcome.stderr.lower(), outcome.output
    assert not list(tmp_path.glob("stolen*")) and not (tmp_path / "other.db").exists()
    assert not (tmp_path / "x.csv").exists()
    assert no_run_dir(tmp_path / "out")
    assert sorted(p.name for p in fuzz_run.root.iterdir()) == before  # nothing written beside
    assert not Path("/tmp/scarline-fuzz-abs").exists() and not Path("x").exists()


# --- hypothesis: more of the same, made up ---------------------------------------------------

BAD_CELLS = ["", "nan", "-inf", "inf", "-1", "0", "-0", "1e400", "abc", "-1e-9", "9" * 30, " "]
BAD_STAMPS = ["3000-01-01", "0001-01-01", "2021-02-30", "x", "", "2021-01-01"]


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 39), st.integers(0, 6), st.sampled_from(BAD_CELLS)),
        min_size=1,
        max_size=4,
    ),
    stamp=st.none() | st.tuples(st.integers(0, 39), st.sampled_from(BAD_STAMPS)),
)
def test_made_up_csvs_that_data_check_rejects_are_refused_by_run(
    edits: list[tuple[int, int, str]], stamp: tuple[int, str] | None, fuzz_run: FuzzRun
) -> None:
    rows = base_rows()
    for row, col, value in edits:
        rows[row][max(col, 2)] = value  # a price or the volume
    if stamp is not None:
        rows[stamp[0]][0] = stamp[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "made.csv"
        path.write_bytes(text(rows))
        check = invoke(["data", "check", str(path)])
        out = Path(tmp) / "out"
        code, err = _run(fuzz_run.config, path, out, "--run-id", "made")
        if check.code != 0:
            assert code == 2 and err.startswith("error: "), err
            assert no_run_dir(out)
        else:
            assert code == 0, err


KEYS = [
    "seed",
    "accounts.initial_cash",
    "execution.fees.bps",
    "execution.latency.steps",
    "risk.max_notional",
    "evaluation.oos_fraction",
    "wal.fsync_every",
    "data.tick_size",
    "data.start",
    "data.end",
    "scars.drawdown_pct",
]
VALUES = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.sampled_from(["0.00000001", "3000-01-01", "0001-01-01", "-0.01", "1e300", "inf"]),
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=st.sampled_from(KEYS), value=VALUES)
def test_made_up_config_values_never_crash(key: str, value: object, fuzz_run: FuzzRun) -> None:
    *tables, leaf = key.split(".")
    line = f"{leaf} = {_toml_value(value)}\n"
    body = BASE_TOML if not tables else BASE_TOML + f"[{'.'.join(tables)}]\n"
    body = line + BASE_TOML if not tables else body + line
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "made.toml"
        path.write_text(body, encoding="utf-8")
        out = Path(tmp) / "out"
        code, err = _run(path, fuzz_run.data, out, "--run-id", "made")
        assert code in (0, 2), err
        if code:
            assert err.startswith("error: ") and no_run_dir(out), err
