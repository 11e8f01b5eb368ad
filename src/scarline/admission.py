"""What a run's input must pass before its run directory exists: G0 DataTruth on the rows it
trades (``scarline.market.admit``, with the config's ``[data.g0]``) and tick sizes the
accounts can represent."""

from __future__ import annotations

from scarline.config import RunConfig, check_tick_size
from scarline.errors import DataError
from scarline.market.admit import Admission, admit
from scarline.market.checks import G0Thresholds
from scarline.market.frame import MarketData


def admit_run_input(config: RunConfig, *, allow_warnings: bool = False) -> Admission:
    """G0 on the rows ``config`` trades: errors, and warnings of the checks
    ``data.g0.refuse_warnings`` lists (unless ``allow_warnings``), raise
    :class:`~scarline.market.admit.G0Refused`; the rest is journaled by the run."""
    d, g0 = config.data, config.data.g0
    return admit(
        d.source,
        tick_size=d.tick_size,
        start=d.start,
        end=d.end,
        symbols=d.symbols,
        thresholds=G0Thresholds(
            gap_factor=g0.gap_factor, outlier_k=g0.outlier_k, stale_run=g0.stale_run
        ),
        refuse_warnings=g0.refuse_warnings,
        allow_warnings=allow_warnings,
    )


def check_market(market: MarketData, source: str) -> MarketData:
    """``market`` if it has a step and every tick is a whole number of cash units."""
    if market.n_steps == 0:
        raise DataError(f"{source}: no bar with every value present in the rows the run trades")
    for spec in market.instruments:
        try:
            check_tick_size(spec.tick_size)
        except ValueError as err:
            raise DataError(
                f"{source}: {spec.symbol}: {err} (inferred from the prices' decimal places "
                "unless data.tick_size gives it)"
            ) from None
    return market
