"""Instruments and fixed-point prices.

Canonical events carry prices and quantities as integers in instrument ticks and lots.
Text becomes ticks through :class:`decimal.Decimal` only, never through ``float``, so a
price such as ``"123456789012345.67"`` keeps every digit. Floats that already exist
(columns of a package dataset) go through their shortest ``repr`` first, which is the
decimal text that float was written from.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import msgspec
import numpy as np

CASH_SCALE = 100_000_000
"""Cash units per currency unit (10⁻⁸): fees and notionals are exact int64. Fine enough that
one lot moving one tick is a whole number of units for crypto lots (BTC/USDT: 0.00001 BTC ×
0.01 USDT = 10 units); the largest amount a config may name is
:data:`scarline.execution.types.MAX_MONEY`. A tick must be a whole number of these."""

MAX_TICK = Decimal(10**6)
"""The largest tick size (currency units): one lot moving one tick must fit int64 cash."""


class InstrumentSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What one traded instrument is: its symbol, the size of one price tick and one lot, and
    the venue's smallest order (quantity and value) where it has one."""

    symbol: str
    tick_size: str = "0.01"
    lot_size: str = "1"
    currency: str = "USD"
    venue: str = "SIM"
    min_qty: str | None = None  # the venue's smallest order quantity (None: one lot)
    min_notional: str | None = None  # the venue's smallest order value, in the currency

    @property
    def tick(self) -> Decimal:
        return Decimal(self.tick_size)

    @property
    def lot(self) -> Decimal:
        return Decimal(self.lot_size)

    @property
    def tick_float(self) -> float:
        return float(self.tick)


def to_units(text: str, unit: Decimal) -> int:
    """Parse decimal ``text`` into an integer count of ``unit`` (half-even rounding).

    Raises ``ValueError`` naming the text when it is not a finite decimal number.
    """
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"cannot parse {text!r} as a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return int((value / unit).to_integral_value(rounding=ROUND_HALF_EVEN))


def price_to_ticks(text: str, spec: InstrumentSpec) -> int:
    return to_units(text, spec.tick)


def ticks_to_decimal(ticks: int, spec: InstrumentSpec) -> Decimal:
    return Decimal(ticks) * spec.tick


def floats_to_units(values: np.ndarray, unit: Decimal) -> np.ndarray:
    """Convert float values to integer units via each float's shortest decimal ``repr``.

    NaN and inf map to 0; callers mask them out (G0 DataTruth reports them).
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    out = np.zeros(flat.shape, dtype=np.int64)
    finite = np.isfinite(flat)
    for i in np.flatnonzero(finite):
        out[i] = to_units(repr(float(flat[i])), unit)
    return out.reshape(np.shape(values))


def texts_to_units(values: np.ndarray, unit: Decimal) -> np.ndarray:
    """Decimal strings to integer units; ``ValueError`` at the first bad one."""
    flat = np.asarray(values, dtype=object).ravel()
    out = np.empty(flat.shape, dtype=np.int64)
    for i, text in enumerate(flat):
        out[i] = to_units(str(text), unit)
    return out.reshape(np.shape(values))


def infer_decimals(texts: list[str], cap: int = 8) -> int:
    """The number of decimal places needed to write every text exactly (at most ``cap``)."""
    places = 0
    for text in texts:
        exponent = Decimal(text).normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            places = max(places, -exponent)
    return min(places, cap)


def tick_for_decimals(decimals: int) -> str:
    return "1" if decimals <= 0 else "0." + "0" * (decimals - 1) + "1"


def check_tick_size(text: str) -> str:
    """``text`` if it is a tick the accounts can represent: a positive decimal, at most
    :data:`MAX_TICK`, and a whole number of cash units (a multiple of 1 / ``CASH_SCALE``)."""
    try:
        tick = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"tick size {text!r} is not a decimal number") from None
    if not tick.is_finite() or tick <= 0:
        raise ValueError(f"tick size {text!r} is not a positive decimal")
    if tick > MAX_TICK:
        raise ValueError(f"tick size {text!r} is larger than {MAX_TICK}")
    units = tick * CASH_SCALE
    if units != units.to_integral_value():
        raise ValueError(
            f"tick size {text!r} is finer than one cash unit: a tick must be a multiple of "
            f"{Decimal(1) / CASH_SCALE:f} (cash is held in units of 1/{CASH_SCALE})"
        )
    return text.strip()
