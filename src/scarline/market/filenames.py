"""The symbol of a one-symbol file named the way Freqtrade names its candle files.

Freqtrade stores each pair's candles in its own file, ``BTC_USDT-1h.feather`` (spot) or
``futures/BTC_USDT_USDT-1h-futures.feather`` (the pair ``BTC/USDT:USDT``), with no symbol
column: the pair is only in the file name, so a run's symbols would otherwise read
``BTC_USDT-1h``. Names that do not fit the pattern keep the file stem as the symbol.
"""

from __future__ import annotations

import re

_PART = r"[A-Za-z0-9]+"
_FREQTRADE = re.compile(
    rf"(?P<pair>{_PART}_{_PART}(?:_{_PART})?)-(?P<timeframe>\d+[smhdwMy])"
    r"(?:-(?P<candle>futures|mark|index|premiumIndex|funding_rate|spot|margin))?"
)


def freqtrade_symbol(stem: str) -> str | None:
    """``"BTC_USDT-1h"`` → ``"BTC/USDT"``, ``"BTC_USDT_USDT-1h-futures"`` →
    ``"BTC/USDT:USDT"``; None when ``stem`` is not a Freqtrade candle file name."""
    match = _FREQTRADE.fullmatch(stem)
    if match is None:
        return None
    parts = match["pair"].split("_")
    if len(parts) == 2:
        return f"{parts[0]}/{parts[1]}"
    if match["candle"] in (None, "spot", "margin"):
        return None  # three parts are a futures pair (BASE_QUOTE_SETTLE) only
    return f"{parts[0]}/{parts[1]}:{parts[2]}"
