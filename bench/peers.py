"""scarline's single SMA strategy next to its peers, on the same bars, in the same run.

    python bench/peers.py --json [--bars N] [--repeat R]

The bars are ``bench/kernel.py``'s (synthetic minute bars, seed 7). Each engine runs the
SMA(10, 30) long/flat crossover over all of them; only the run is timed (data preparation
and result reports are not):

- ``scarline``: the kernel, N = 1, every bar and decision journaled, risk limits on;
- ``backtesting.py`` (``pip install '.[bench]'``): ``Backtest(...).run()`` with an
  event-driven ``Strategy`` whose ``next`` crosses two precomputed SMAs — its own idiom;
- ``vectorbt`` where installed: signals from two rolling means and
  ``Portfolio.from_signals`` — a vectorized backtest, no per-bar Python at all.

Prints bars per second of each and ``scarline_vs_<peer>``, scarline's throughput as a
multiple of the peer's (the issue-18 budget: ≥ 1 against backtesting.py). A peer that is not
installed is reported as such, not skipped silently. Each of ``--repeat`` rounds runs every
engine once, interleaved; the median rate counts, and a ratio is the median of the rounds'.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel import RISK, _time_kernel

from scarline.argtypes import positive_int
from scarline.config import RunConfig
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate

FAST, SLOW = 10, 30


def _frame(bars: int) -> pd.DataFrame:
    """The kernel bench's bars as a float OHLCV frame (prices in currency units)."""
    market = normalized(generate(SynthSpec(n_steps=bars, seed=7, freq="1min")))
    tick = float(market.instruments[0].tick_size)
    cols = {
        name.capitalize(): market.prices(name)[:, 0].astype(np.float64) * tick
        for name in ("open", "high", "low", "close")
    }
    cols["Volume"] = market.volume[:, 0].astype(np.float64)
    index = pd.to_datetime(np.asarray(market.timestamps), unit="ns")
    return pd.DataFrame(cols, index=index)


def time_scarline(bars: int) -> float:
    cfg = RunConfig(
        agents=[{"kind": "sma-crossover", "fast": [FAST], "slow": [SLOW]}],
        risk=RISK,
        report=False,
    )
    return _time_kernel(cfg, bars)


def time_backtesting(frame: pd.DataFrame) -> float:
    from backtesting import Backtest, Strategy

    def sma(values: np.ndarray, n: int) -> np.ndarray:
        return pd.Series(values).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):  # the library's own quick-start strategy, long/flat
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            if self.fast[-1] > self.slow[-1]:
                if not self.position:
                    self.buy()
            elif self.position:
                self.position.close()

    bt = Backtest(frame, SmaCross, cash=1e12, commission=0.0, finalize_trades=True)
    start = time.perf_counter()
    bt.run()
    return time.perf_counter() - start


def time_vectorbt(frame: pd.DataFrame) -> float:
    import vectorbt as vbt

    close = frame["Close"]
    start = time.perf_counter()
    fast = close.rolling(FAST).mean()
    slow = close.rolling(SLOW).mean()
    above = fast > slow
    vbt.Portfolio.from_signals(close, entries=above, exits=~above, init_cash=1e12)
    return time.perf_counter() - start


def measure(bars: int, repeat: int) -> dict[str, object]:
    """Each engine's median rate over ``repeat`` rounds, and ``scarline_vs_<peer>``: the
    median over rounds of the peer's time over scarline's. A round runs every engine once,
    one after the other, so a shift in this shared machine's speed (±30 % within minutes)
    weighs on both sides of a ratio alike, where runs of one engine after the other's
    could land in different hours."""
    frame = _frame(bars)
    peers: dict[str, Callable[[], float]] = {
        "backtesting": lambda: time_backtesting(frame),
        "vectorbt": lambda: time_vectorbt(frame),
    }
    timers = {"scarline": lambda: time_scarline(bars)}
    timers |= {name: t for name, t in peers.items() if importlib.util.find_spec(name)}
    seconds: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(repeat):
        for name, timer in timers.items():
            seconds[name].append(timer())
    ours = seconds["scarline"]
    out: dict[str, object] = {
        "bars": bars,
        "repeat": repeat,
        "scarline_bars_per_s": round(bars / statistics.median(ours)),
    }
    for name in peers:
        theirs = seconds.get(name)
        if theirs is None:
            out[f"{name}_bars_per_s"] = "not installed"
            continue
        out[f"{name}_bars_per_s"] = round(bars / statistics.median(theirs))
        ratios = [peer / own for own, peer in zip(ours, theirs, strict=True)]
        out[f"scarline_vs_{name}"] = round(statistics.median(ratios), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=positive_int, default=200_000)
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=3,
        help="rounds, each running every engine once; the medians count",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.bars, args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    print(f"SMA({FAST}, {SLOW}) long/flat on {args.bars:,} minute bars, median of {args.repeat}")
    for key, value in result.items():
        if key.endswith("_bars_per_s") or key.startswith("scarline_vs_"):
            print(f"  {key:28s} {value:>14}")


if __name__ == "__main__":
    main()
