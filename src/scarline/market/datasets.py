"""Real market data shipped inside installed packages (loaded at run time, never downloaded).

Each :class:`DatasetSpec` names the package that ships the data and turns it into a canonical
long frame; from there it takes the same exact path as a CSV (ticks through ``repr`` and
``Decimal``, G0 DataTruth on source rows). ``backtesting`` is optional: its datasets are
listed only when it is importable.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scarline.errors import DataError
from scarline.market.build import raw_from_frame
from scarline.market.frame import MarketData
from scarline.market.pivot import to_market
from scarline.market.raw import RawTable

_OHLCV = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Volume": "volume"}


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives and how to read it; ``source`` is the module that ships it."""

    name: str
    description: str
    source: str
    frequency: str
    tick_size: str
    symbol: str
    reader: Callable[[DatasetSpec], tuple[pd.DataFrame, np.ndarray]]

    def available(self) -> bool:
        top = self.source.split(".")[0]
        return importlib.util.find_spec(top) is not None


@dataclass(frozen=True)
class DatasetInfo:
    """One row of ``scarline data list``."""

    name: str
    description: str
    source: str
    frequency: str
    tick_size: str
    rows: int
    symbols: int
    start: str
    end: str


def _module_frame(spec: DatasetSpec) -> pd.DataFrame:
    """``arch.data.X`` modules have ``load()``; ``backtesting.test.X`` is a DataFrame attribute."""
    if spec.source.startswith("backtesting."):
        module, _, attr = spec.source.rpartition(".")
        return getattr(importlib.import_module(module), attr).copy()
    return importlib.import_module(spec.source).load()


def _ohlcv(spec: DatasetSpec) -> tuple[pd.DataFrame, np.ndarray]:
    """Open/High/Low/Close/Volume of one index or asset; ``Adj Close`` is not used."""
    src = _module_frame(spec)
    frame = src[list(_OHLCV)].rename(columns=_OHLCV)
    frame.insert(0, "timestamp", src.index)
    return frame.reset_index(drop=True), np.arange(1, len(src) + 1)


def _closes(spec: DatasetSpec) -> tuple[pd.DataFrame, np.ndarray]:
    """A one-column close series; rows without a value (holidays) are dropped."""
    src = _module_frame(spec)
    values = src.iloc[:, 0]
    keep = values.notna().to_numpy()
    frame = pd.DataFrame({"timestamp": src.index[keep], "close": values.to_numpy()[keep]})
    return frame, np.flatnonzero(keep) + 1


def _wide_closes(spec: DatasetSpec) -> tuple[pd.DataFrame, np.ndarray]:
    """Close prices of many stocks, one column each, as long rows (row = source date row)."""
    from skfolio.datasets import load_sp500_dataset

    src = load_sp500_dataset()
    n, m = src.shape
    frame = pd.DataFrame(
        {
            "timestamp": np.repeat(src.index.to_numpy(), m),
            "symbol": np.tile(np.asarray(src.columns, dtype=object), n),
            "close": src.to_numpy(dtype=np.float64).ravel(),
        }
    )
    return frame, np.repeat(np.arange(1, n + 1), m)


DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        "sp500",
        "S&P 500 index, daily OHLCV 1999-2018",
        "arch.data.sp500",
        "1d",
        "0.01",
        "SP500",
        _ohlcv,
    ),
    DatasetSpec(
        "nasdaq",
        "NASDAQ Composite, daily OHLCV 1999-2018",
        "arch.data.nasdaq",
        "1d",
        "0.01",
        "NASDAQ",
        _ohlcv,
    ),
    DatasetSpec(
        "sp500-20",
        "20 US stocks, daily closes 1990-2022",
        "skfolio.datasets.load_sp500_dataset",
        "1d",
        "0.001",
        "",
        _wide_closes,
    ),
    DatasetSpec(
        "wti",
        "WTI crude oil spot, daily closes 1986-2019",
        "arch.data.wti",
        "1d",
        "0.01",
        "WTI",
        _closes,
    ),
    DatasetSpec(
        "vix",
        "CBOE VIX index, daily closes 2014-2019",
        "arch.data.vix",
        "1d",
        "0.01",
        "VIX",
        _closes,
    ),
    DatasetSpec(
        "eurusd",
        "EUR/USD, hourly OHLCV 2017-2018",
        "backtesting.test.EURUSD",
        "1h",
        "0.00001",
        "EURUSD",
        _ohlcv,
    ),
    DatasetSpec(
        "goog",
        "Alphabet (GOOG), daily OHLCV 2004-2013",
        "backtesting.test.GOOG",
        "1d",
        "0.01",
        "GOOG",
        _ohlcv,
    ),
)


def available_datasets() -> list[DatasetSpec]:
    """The registered datasets whose package is installed, in registry order."""
    return [d for d in DATASETS if d.available()]


def known_names() -> list[str]:
    return [d.name for d in available_datasets()]


def dataset_spec(name: str) -> DatasetSpec:
    """The descriptor called ``name``; :class:`DataError` listing the known names otherwise."""
    for spec in available_datasets():
        if spec.name == name:
            return spec
    raise DataError(f"unknown dataset {name!r} (known: {', '.join(known_names())})")


def is_dataset(name: str) -> bool:
    return name in known_names()


def dataset_raw(
    name: str, tick_size: str | None = None, lot_sizes: Mapping[str, str] | None = None
) -> RawTable:
    """The dataset as source rows (what G0 checks); ``row`` numbers the package's rows."""
    spec = dataset_spec(name)
    frame, rows = spec.reader(spec)
    ticks = tick_size or spec.tick_size
    raw = raw_from_frame(
        frame,
        source=spec.name,
        tick_size=ticks,
        default_symbol=spec.symbol,
        rows=rows,
        lot_sizes=lot_sizes,
    )
    raw.meta["format"] = f"dataset ({spec.source})"
    return raw


def load_dataset(
    name: str, tick_size: str | None = None, lot_sizes: Mapping[str, str] | None = None
) -> MarketData:
    """Load a shipped dataset as ticks (tick size from the registry unless given)."""
    spec = dataset_spec(name)
    market = to_market(
        dataset_raw(name, tick_size, lot_sizes),
        name=spec.name,
        source=spec.source,
        frequency=spec.frequency,
    )
    market.meta["description"] = spec.description
    return market


def list_datasets() -> list[DatasetInfo]:
    """Every available dataset with its size and time range (each is loaded; they are small)."""
    infos = []
    for spec in available_datasets():
        market = load_dataset(spec.name)
        start, end = (
            str(t)[:10] if spec.frequency == "1d" else str(t)[:19] for t in market.time_range()
        )
        infos.append(
            DatasetInfo(
                name=spec.name,
                description=spec.description,
                source=spec.source,
                frequency=spec.frequency,
                tick_size=spec.tick_size,
                rows=market.n_steps,
                symbols=market.n_instruments,
                start=start,
                end=end,
            )
        )
    return infos
