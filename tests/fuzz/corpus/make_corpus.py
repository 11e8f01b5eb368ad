"""Write the fuzz corpus: malformed market CSVs (``csv/``) and run configs (``config/``).

Deterministic: ``python tests/fuzz/corpus/make_corpus.py`` rewrites the same bytes, and
``tests/fuzz/test_fuzz_cli.py`` checks the committed files are exactly what this script
writes. Every case is meaningfully different and malformed: each CSV is refused by
``scarline data check`` (a parse error, exit 2, or a G0 error, exit 1), and each config by
``scarline run`` (exit 2). A config whose first line is ``# fuzz: no --data`` is run
without ``--data`` (its ``data.source`` is the point).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "timestamp,symbol,open,high,low,close,volume"
QUOTE_HEADER = HEADER + ",bid,ask,bid_size,ask_size"
BARS = 40


def _bar(i: int) -> list[str]:
    """Bar i of the base market: consecutive days, ticks of 0.01, consistent OHLC."""
    close = 10_000 + ((i * 37) % 11 - 5) * 10 + i * 3
    prev = 10_000 + (((i - 1) * 37) % 11 - 5) * 10 + (i - 1) * 3 if i else 10_000
    high, low = max(prev, close) + 20, min(prev, close) - 20
    day = f"2021-{1 + i // 28:02d}-{1 + i % 28:02d}"
    return [day, "ABC", *(f"{p / 100:.2f}" for p in (prev, high, low, close)), str(1000 + i * 10)]


def base_rows() -> list[list[str]]:
    return [_bar(i) for i in range(BARS)]


def quote_rows() -> list[list[str]]:
    rows = []
    for row in base_rows():
        close = float(row[5])
        rows.append([*row, f"{close - 0.01:.2f}", f"{close + 0.01:.2f}", "100", "120"])
    return rows


def text(rows: list[list[str]], header: str = HEADER) -> bytes:
    return ("\n".join([header, *(",".join(r) for r in rows)]) + "\n").encode()


def base_csv() -> bytes:
    """The valid market every config case runs on (``--data``)."""
    return text(base_rows())


def _set(col: int, value: str, row: int = 7, rows: Callable[[], list[list[str]]] = base_rows):
    def make() -> bytes:
        out = rows()
        out[row][col] = value
        return text(out, QUOTE_HEADER if rows is quote_rows else HEADER)

    return make


def _rows(edit: Callable[[list[list[str]]], list[list[str]]], header: str = HEADER):
    return lambda: text(edit(base_rows()), header)


def _swap(rows: list[list[str]]) -> list[list[str]]:
    rows[10], rows[11] = rows[11], rows[10]
    return rows


def _dup(rows: list[list[str]]) -> list[list[str]]:
    rows[12][0] = rows[11][0]
    return rows


def _two_symbols(rows: list[list[str]]) -> list[list[str]]:
    other = [[r[0], "XYZ", *r[2:]] for r in rows]
    other[5][0] = other[4][0]  # a duplicate timestamp in XYZ only
    return rows + other


def _drop_col(name: str, header: str = HEADER) -> Callable[[], bytes]:
    cols = header.split(",")
    k = cols.index(name)
    rows_of = quote_rows if header == QUOTE_HEADER else base_rows

    def make() -> bytes:
        rows = [r[:k] + r[k + 1 :] for r in rows_of()]
        return text(rows, ",".join(cols[:k] + cols[k + 1 :]))

    return make


CLOSE, OPEN, HIGH, LOW, VOLUME, TS, SYM = 5, 2, 3, 4, 6, 0, 1
BID, ASK, BID_SIZE, ASK_SIZE = 7, 8, 9, 10

CSV_CASES: dict[str, Callable[[], bytes]] = {
    # unreadable or shapeless files (exit 2 from data check)
    "empty": lambda: b"",
    "header_only": lambda: (HEADER + "\n").encode(),
    "header_and_blank_lines": lambda: (HEADER + "\n\n\n\n").encode(),
    "non_utf8_cell": lambda: base_csv().replace(b"ABC", b"AB\xff\xfe", 1),
    "utf16": lambda: base_csv().decode().encode("utf-16"),
    "binary_garbage": lambda: bytes(range(256)) * 4,
    "nul_bytes": lambda: base_csv().replace(b"100", b"1\x000", 3),
    "json_not_csv": lambda: b'[{"timestamp": "2021-01-01", "close": 1}]\n',
    "no_close_column": _drop_col("close"),
    "no_timestamp_column": _drop_col("timestamp"),
    "no_open_column": _drop_col("open"),
    "only_timestamp_column": lambda: b"timestamp\n2021-01-01\n2021-01-02\n",
    "duplicate_column": lambda: text([[*r, r[CLOSE]] for r in base_rows()], HEADER + ",Close"),
    # ';' and tab separated files read (the separator is the header's); a European
    # export's decimal commas do not, and a tab file's bad price is a G0 error as in any CSV
    "semicolon_decimal_comma": lambda: base_csv().replace(b",", b";").replace(b".", b","),
    "tab_separated_negative_close": lambda: _set(CLOSE, "-100.00")().replace(b",", b"\t"),
    "bom_header_wrong_name": lambda: "\ufeffstamp".encode() + base_csv()[len("timestamp") :],
    "ragged_row": lambda: base_csv().replace(b"1070\n", b"1070,9,9,9\n", 1),
    "unterminated_quote": lambda: base_csv().replace(b"ABC", b'"ABC', 1),
    "bid_without_ask": lambda: text(
        [[*r, f"{float(r[CLOSE]) - 0.01:.2f}"] for r in base_rows()], HEADER + ",bid"
    ),
    "quotes_without_bid": _drop_col("bid", QUOTE_HEADER),
    "unparsable_close": _set(CLOSE, "12abc"),
    "thousands_separator": _set(CLOSE, '"1,000.50"'),
    "hex_price": _set(CLOSE, "0x10"),
    "huge_exponent_price": _set(CLOSE, "1e400"),
    "huge_integer_price": _set(CLOSE, "99999999999999999999999999"),
    "huge_volume": _set(VOLUME, "1e30"),
    "empty_symbol": _set(SYM, ""),
    "year_3000": _set(TS, "3000-01-01", row=BARS - 1),
    "year_1": _set(TS, "0001-01-01", row=0),
    "year_2500": _set(TS, "2500-06-01", row=BARS - 1),
    "unparsable_timestamp": _set(TS, "yesterday"),
    "empty_timestamp": _set(TS, ""),
    "impossible_date": _set(TS, "2021-02-30"),
    "month_13": _set(TS, "2021-13-01"),
    # files that parse but fail G0 (exit 1 from data check)
    "negative_close": _set(CLOSE, "-100.00"),
    "zero_close": _set(CLOSE, "0"),
    "negative_zero_close": _set(CLOSE, "-0"),
    "tiny_negative_close": _set(CLOSE, "-1e-9"),
    "underflow_close": _set(CLOSE, "1e-400"),
    "negative_open": _set(OPEN, "-1"),
    "zero_low": _set(LOW, "0.00"),
    "negative_high_only": _set(HIGH, "-150.00"),
    "high_below_low": _set(HIGH, "50.00"),
    "low_above_open_close": _set(LOW, "150.00"),
    "high_below_close": _set(HIGH, "99.00"),
    "nan_close": _set(CLOSE, "NaN"),
    "nan_lowercase_open": _set(OPEN, "nan"),
    "null_close": _set(CLOSE, "null"),
    "inf_close": _set(CLOSE, "inf"),
    "infinity_close": _set(CLOSE, "Infinity"),
    "minus_inf_high": _set(HIGH, "-inf"),
    "empty_close": _set(CLOSE, ""),
    "whitespace_close": _set(CLOSE, "   "),
    "na_volume": _set(VOLUME, "N/A"),
    "inf_volume": _set(VOLUME, "inf"),
    "negative_volume": _set(VOLUME, "-5"),
    "negative_fraction_volume": _set(VOLUME, "-1.5"),
    "all_close_nan": lambda: text([[*r[:CLOSE], "nan", r[VOLUME]] for r in base_rows()]),
    "single_row_negative": lambda: text([[*base_rows()[0][:CLOSE], "-1", "10"]]),
    "duplicate_timestamp": _rows(_dup),
    "exact_duplicate_row": _rows(lambda r: [*r[:20], r[19], *r[20:]]),
    "unsorted_timestamps": _rows(_swap),
    "reversed_file": _rows(lambda r: r[::-1]),
    "two_symbols_one_duplicate": _rows(_two_symbols),
    "crossed_quote": _set(BID, "200.00", rows=quote_rows),
    "zero_bid": _set(BID, "0", rows=quote_rows),
    "nan_ask": _set(ASK, "NaN", rows=quote_rows),
    "negative_bid_size": _set(BID_SIZE, "-10", rows=quote_rows),
    "negative_ask_size": _set(ASK_SIZE, "-1", rows=quote_rows),
    "many_errors": lambda: text(
        [[r[TS], r[SYM], "-1", "0", "5", "nan", "-3"] for r in base_rows()]
    ),
}


BASE_TOML = 'report = false\n[[agents]]\nkind = "sma-crossover"\nfast = [3]\nslow = [8]\n'
"""A config that runs (two quick agents on the base market); cases break one thing."""

NO_DATA = "# fuzz: no --data\n"


def _agent(body: str, kind: str = "sma-crossover") -> str:
    defaults = {"sma-crossover": "fast = [3]\nslow = [8]\n"}
    return f'report = false\n[[agents]]\nkind = "{kind}"\n' + (body or defaults.get(kind, ""))


def _q(body: str) -> str:
    """A tiny q-network group with ``body`` added to it."""
    return _agent("count = 2\nqnet.hidden = [4]\nqnet.buffer_capacity = 16\n" + body, "q-network")


CONFIG_CASES: dict[str, str] = {
    # TOML that does not parse, or is not text
    "unclosed_string": 'name = "oops\n',
    "duplicate_key": "seed = 1\nseed = 2\n",
    "non_utf8": 'name = "caf\xe9"\n',  # written as latin-1 below
    "binary": "\x00\x01\x02\x03",
    "bom_then_garbage": "\ufeff[[[\n",
    "table_redefined": "[data]\nsource = 'x'\n[data]\nend = '2021-01-01'\n",
    "key_without_value": "seed =\n",
    "bare_words": "this is not toml\n",
    # wrong types (strict: no coercion)
    "seed_string": BASE_TOML + 'seed = "7"\n',
    "seed_float": "seed = 1.5\n" + BASE_TOML,
    "seed_bool": "seed = true\n" + BASE_TOML,
    "report_string": 'report = "yes"\n',
    "name_int": "name = 1\nreport = false\n",
    "agents_string": 'report = false\nagents = "sma"\n',
    "agents_table": 'report = false\n[agents]\nkind = "sma-crossover"\n',
    "data_int": "report = false\ndata = 3\n",
    "cash_string": 'report = false\n[accounts]\ninitial_cash = "1e6"\n',
    "cash_1e-9": BASE_TOML + "[accounts]\ninitial_cash = 1e-9\n",  # 0 cash units
    "count_float": _agent("count = 1e9\n", "random-entry"),
    # numbers out of bounds
    "seed_negative": "seed = -1\n" + BASE_TOML,
    "seed_2_63": "seed = 9223372036854775808\n" + BASE_TOML,
    "seed_huge": "seed = 99999999999999999999999\n" + BASE_TOML,
    "cash_zero": BASE_TOML + "[accounts]\ninitial_cash = 0.0\n",
    "cash_negative": BASE_TOML + "[accounts]\ninitial_cash = -5.0\n",
    "cash_1e300": BASE_TOML + "[accounts]\ninitial_cash = 1e300\n",
    "cash_inf": BASE_TOML + "[accounts]\ninitial_cash = inf\n",
    "cash_nan": BASE_TOML + "[accounts]\ninitial_cash = nan\n",
    "sma_fast_zero": _agent("fast = [0]\nslow = [8]\n"),
    "sma_fast_negative": _agent("fast = [-5]\nslow = [8]\n"),
    "sma_slow_huge": _agent("fast = [3]\nslow = [10000001]\n"),
    "sma_no_pair": _agent("fast = [8]\nslow = [3]\n"),
    "momentum_lookback_zero": _agent("lookbacks = [0]\n", "momentum"),
    "momentum_threshold_1e300": _agent("threshold = 1e300\n", "momentum"),
    "mean_reversion_window_zero": _agent("windows = [0]\n", "mean-reversion"),
    "mean_reversion_z_zero": _agent("z_entry = 0.0\n", "mean-reversion"),
    "random_count_zero": _agent("count = 0\n", "random-entry"),
    "random_count_negative": _agent("count = -1\n", "random-entry"),
    "random_count_1e9": _agent("count = 1000000000\n", "random-entry"),
    "random_p_entry_2": _agent("p_entry = 2.0\n", "random-entry"),
    "sizing_fraction_zero": _agent("fast = [3]\nslow = [8]\nsizing.fraction = 0.0\n"),
    "sizing_mode_unknown": _agent('fast = [3]\nslow = [8]\nsizing.mode = "most"\n'),
    "sizing_lots_huge": _agent("fast = [3]\nslow = [8]\nsizing.lots = 10000000000\n"),
    "qnet_hidden_1e8": _q("qnet.hidden = [100000000]\n").replace("qnet.hidden = [4]\n", ""),
    "qnet_count_1e9": _q("").replace("count = 2", "count = 1000000000"),
    "qnet_hidden_zero": _q("").replace("[4]", "[0]"),
    "qnet_hidden_empty": _q("").replace("[4]", "[]"),
    "qnet_hidden_three_layers": _q("").replace("[4]", "[4, 4, 4]"),
    "qnet_one_action": _q("qnet.actions = [1.0]\n"),
    "qnet_duplicate_actions": _q("qnet.actions = [1.0, 1.0]\n"),
    "qnet_action_inf": _q("qnet.actions = [inf, 0.0]\n"),
    "qnet_action_100": _q("qnet.actions = [100.0, 0.0]\n"),
    "qnet_epsilon_end_above_start": _q("qnet.epsilon_start = 0.1\nqnet.epsilon_end = 0.5\n"),
    "qnet_lr_zero": _q("qnet.lr = 0.0\n"),
    "qnet_lr_nan": _q("qnet.lr = nan\n"),
    "qnet_gamma_2": _q("qnet.gamma = 2.0\n"),
    "qnet_lr_1e39": _q("qnet.lr = 1e39\nevolution.domain.lr_max = 1e40\n"),  # float32 inf
    "qnet_reward_scale_1e308": _q("qnet.reward_scale = 1e308\n"),
    "qnet_batch_1e10": _q("qnet.batch_size = 10000000000\n"),  # was killed by the OOM killer
    "qnet_batch_zero": _q("qnet.batch_size = 0\n"),
    "qnet_buffer_huge": _q("").replace("buffer_capacity = 16", "buffer_capacity = 4000000000"),
    "qnet_threads_huge": _q("qnet.torch_threads = 100000\n"),
    "qnet_regime_heads_without_hmm": _q("qnet.regime_heads = true\n"),
    "features_vol_window_one": _q("features.vol_windows = [1]\n"),
    "features_duplicate_windows": _q("features.return_windows = [1, 1]\n"),
    "features_halflife_zero": _q("features.norm_halflife = 0\n"),
    "features_clip_zero": _q("features.clip = 0.0\n"),
    "fees_negative": BASE_TOML + "[execution.fees]\nbps = -1.0\n",
    "fees_minimum_1e300": BASE_TOML + "[execution.fees]\nminimum = 1e300\n",
    "slippage_inf": BASE_TOML + "[execution.slippage]\nfixed_bps = inf\n",
    "latency_mixed_units": BASE_TOML + "[execution.latency]\nkind = 'steps'\nns = 5\n",
    "latency_steps_negative": BASE_TOML + "[execution.latency]\nsteps = -1\n",
    "latency_ns_huge": BASE_TOML + "[execution.latency]\nkind = 'ns'\nns = 1000000000000000000\n",
    "participation_zero": BASE_TOML + "[execution.fill]\nparticipation_rate = 0.0\n",
    "participation_two": BASE_TOML + "[execution.fill]\nparticipation_rate = 2.0\n",
    "touch_share_above_one": BASE_TOML + "[execution.fill]\ntouch_share = 1.5\n",
    "risk_notional_negative": BASE_TOML + "[risk]\nmax_notional = -1.0\n",
    "risk_notional_1e300": BASE_TOML + "[risk]\nmax_gross_notional = 1e300\n",
    "risk_min_cash_inf": BASE_TOML + "[risk]\nmin_cash = -inf\n",
    "ladder_out_of_order": BASE_TOML
    + "[risk.ladder]\nwarn_drawdown_pct = 20.0\nhalt_drawdown_pct = 10.0\n",
    "ladder_recover_too_high": BASE_TOML
    + "[risk.ladder]\nwarn_drawdown_pct = 10.0\nrecover_below_pct = 15.0\n",
    "vpin_out_of_order": BASE_TOML
    + "[risk.microstructure]\nvpin_throttle = 0.9\nvpin_block = 0.5\n",
    "oos_fraction_one": BASE_TOML + "[evaluation]\noos_fraction = 1.0\n",
    "oos_fraction_negative": BASE_TOML + "[evaluation]\noos_fraction = -0.1\n",
    "wal_segment_tiny": BASE_TOML + "[wal]\nsegment_bytes = 10\n",
    "wal_fsync_unknown": BASE_TOML + "[wal]\nfsync = 'sometimes'\n",
    "wal_fsync_every_zero": BASE_TOML + "[wal]\nfsync_every = 0\n",
    "profile_unknown": "profile = 'live'\n" + BASE_TOML,
    "flag_not_implemented": BASE_TOML + "[flags]\nfast_weights = true\n",
    "exploration_off_with_evolution": "[flags]\nexploration = false\n"
    + _q("evolution.enabled = true\n"),
    "scars_drawdown_zero": BASE_TOML + "[scars]\ndrawdown_pct = 0.0\n",
    "scars_trust_levels_zero": BASE_TOML + "[scars]\ntrust_levels = 0\n",
    "hmm_confidence_half": BASE_TOML + "[regime.hmm]\nconfidence = 0.5\n",
    "hmm_window_small": BASE_TOML + "[regime.hmm]\nwindow = 10\n",
    "drift_alpha_zero": BASE_TOML + "[reflect.drift]\nalpha = 0.0\n",
    "drift_unknown_action": BASE_TOML + "[reflect.drift]\nactions = ['panic']\n",
    # keys and kinds that do not exist
    "unknown_key": "colour = 'blue'\n" + BASE_TOML,
    "unknown_nested_key": BASE_TOML + "[accounts]\ncolor = 1\n",
    "unknown_section": BASE_TOML + "[broker]\nfees = 1\n",
    "unknown_agent_kind": _agent("", "oracle"),
    "agent_without_kind": "report = false\n[[agents]]\nfast = [3]\n",
    # the data section
    "tick_1e-9": BASE_TOML + "[data]\ntick_size = '0.000000001'\n",
    "tick_negative": BASE_TOML + "[data]\ntick_size = '-0.01'\n",
    "tick_zero": BASE_TOML + "[data]\ntick_size = '0'\n",
    "tick_text": BASE_TOML + "[data]\ntick_size = 'cent'\n",
    "tick_1e300": BASE_TOML + "[data]\ntick_size = '1e300'\n",
    "lot_finer_than_a_cash_unit": BASE_TOML + "[data]\nlot_sizes = { ABC = '0.000000001' }\n",
    "start_year_1": BASE_TOML + "[data]\nstart = '0001-01-01'\n",
    "end_year_3000": BASE_TOML + "[data]\nend = '3000-01-01'\n",
    "start_not_a_date": BASE_TOML + "[data]\nstart = 'last tuesday'\n",
    "end_before_start": BASE_TOML + "[data]\nstart = '2021-02-01'\nend = '2021-01-01'\n",
    "window_without_rows": BASE_TOML + "[data]\nstart = '2030-01-01'\n",
    "symbols_empty_list": BASE_TOML + "[data]\nsymbols = []\n",
    "symbols_unknown": BASE_TOML + "[data]\nsymbols = ['NOPE']\n",
    "symbols_blank": BASE_TOML + "[data]\nsymbols = ['']\n",
    "symbols_duplicate": BASE_TOML + "[data]\nsymbols = ['ABC', 'ABC']\n",
    "exog_lag_negative": BASE_TOML + "[data.exog_available_after]\nsignal = -1\n",
    "g0_unknown_check": BASE_TOML + "[data.g0]\nrefuse_warnings = ['everything']\n",
    "g0_gap_factor_zero": BASE_TOML + "[data.g0]\ngap_factor = 0.0\n",
    "source_empty": NO_DATA + BASE_TOML + "[data]\nsource = ''\n",
    "source_unknown_name": NO_DATA + BASE_TOML + "[data]\nsource = 'no-such-dataset'\n",
    "source_not_market_file": NO_DATA + BASE_TOML + "[data]\nsource = '/etc/hostname'\n",
    "source_missing_csv": NO_DATA + BASE_TOML + "[data]\nsource = '/nonexistent/x.csv'\n",
    "source_directory_csv": NO_DATA + BASE_TOML + "[data]\nsource = '/tmp/'\n",
}


def write(root: Path = HERE) -> tuple[int, int]:
    """Write every case (and ``base.csv``); return (CSV cases, config cases)."""
    for sub in ("csv", "config"):
        (root / sub).mkdir(exist_ok=True)
        for old in (root / sub).iterdir():
            old.unlink()
    (root / "base.csv").write_bytes(base_csv())
    for name, make in CSV_CASES.items():
        (root / "csv" / f"{name}.csv").write_bytes(make())
    for name, body in CONFIG_CASES.items():
        data = body.encode("latin-1") if name == "non_utf8" else body.encode()
        (root / "config" / f"{name}.toml").write_bytes(data)
    return len(CSV_CASES), len(CONFIG_CASES)


if __name__ == "__main__":
    n_csv, n_config = write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"wrote {n_csv} CSV and {n_config} config cases")
