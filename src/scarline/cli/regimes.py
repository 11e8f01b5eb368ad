"""``scarline regimes NAME|PATH``: the causal HMM regimes of a market, as a table or JSON.

The market loads as ``scarline run`` loads it (``load_market``: a shipped dataset name or a
.csv/.parquet file). Bad input raises a :class:`~scarline.errors.ScarlineError`, which the
app prints as one ``error:`` line with a non-zero exit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from scarline.cli.common import NA, console, print_json
from scarline.errors import ConfigError, DataError

if TYPE_CHECKING:
    from scarline.market.frame import MarketData
    from scarline.regime import RegimeConfig, RegimePath

_OPTION_OF = {
    "refit_every": "--refit-every",
    "window": "--window",
    "min_history": "--min-history",
    "confidence": "--confidence",
    "hysteresis": "--hysteresis",
}


def regimes(
    source: Annotated[
        str, typer.Argument(metavar="NAME|PATH", help="Dataset name or .csv/.parquet file.")
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: a label per bar and more.")
    ] = False,
    refit_every: Annotated[int, typer.Option(help="Bars between two HMM refits.")] = 250,
    window: Annotated[int, typer.Option(help="Bars (at most) each fit looks back.")] = 1000,
    min_history: Annotated[int, typer.Option(help="Bars before the first fit.")] = 250,
    confidence: Annotated[
        float, typer.Option(help="Filtered probability that counts as confident (> 0.5).")
    ] = 0.6,
    hysteresis: Annotated[
        int, typer.Option(help="Confident bars in a row before the regime changes.")
    ] = 3,
    tick_size: Annotated[
        str | None, typer.Option(help="Tick size (default: registry / inferred from text).")
    ] = None,
) -> None:
    """Label every bar calm / trend / chaos with a causal Gaussian HMM (no look-ahead).

    Refits every --refit-every bars on the last --window bars; before --min-history bars a
    bar is calm with confidence 0. The committed regime changes after --hysteresis bars in
    a row with another state's filtered probability >= --confidence. Exit 2 on a bad option
    or source, or when the market has too few bars.
    """
    from scarline.market.io import load_market
    from scarline.regime import regime_path

    cfg = _config(
        refit_every=refit_every,
        window=window,
        min_history=min_history,
        confidence=confidence,
        hysteresis=hysteresis,
    )
    market = load_market(source, tick_size=tick_size)
    if market.n_steps <= cfg.min_history:
        raise DataError(
            f"{source}: {market.n_steps} bars, need more than --min-history {cfg.min_history}"
        )
    path = regime_path(market, cfg)
    if json_out:
        print_json(_summary(source, market, path))
    else:
        _print_table(source, market, path)


def _config(**values: Any) -> RegimeConfig:
    """The options as a :class:`RegimeConfig`; a bad value names its option."""
    from pydantic import ValidationError

    from scarline.regime import RegimeConfig

    try:
        return RegimeConfig(enabled=True, **values)
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        option = _OPTION_OF.get(field, field)
        raise ConfigError(f"{option}: {first['msg']}") from None


def _summary(source: str, market: MarketData, path: RegimePath) -> dict[str, Any]:
    from scarline.market.textfmt import timestamps_text
    from scarline.regime import REGIME_NAMES
    from scarline.regime.observations import FEATURE_NAMES

    stamps = timestamps_text(market.timestamps)
    last = path.fits[-1][1].moments() if path.fits else {}
    return {
        "source": source,
        "n_bars": market.n_steps,
        "features": list(FEATURE_NAMES),
        "labels": [REGIME_NAMES[k] for k in path.labels.tolist()],
        "confidence": path.confidence.tolist(),
        "states": last,
        "fits": len(path.fits),
        "transitions": [
            {
                "step": t.step,
                "timestamp": str(stamps[t.step]),
                "from": REGIME_NAMES[t.from_regime],
                "to": REGIME_NAMES[t.to_regime],
                "confidence": t.confidence,
            }
            for t in path.transitions()
        ],
    }


def _print_table(source: str, market: MarketData, path: RegimePath) -> None:
    import numpy as np
    from rich.markup import escape
    from rich.table import Table

    from scarline.regime import REGIME_NAMES
    from scarline.regime.observations import FEATURE_NAMES

    counts = np.bincount(path.labels, minlength=len(REGIME_NAMES))
    moments = path.fits[-1][1].moments() if path.fits else {}
    table = Table(
        title=f"Regimes of {escape(source)} ({market.n_steps} bars, {len(path.fits)} fits)"
    )
    table.add_column("regime")
    table.add_column("bars", justify="right")
    table.add_column("share", justify="right")
    for name in FEATURE_NAMES:
        table.add_column(f"{name} mean (sd)", justify="right")
    for k, name in enumerate(REGIME_NAMES):
        cells = [name, str(counts[k]), f"{counts[k] / max(market.n_steps, 1):.1%}"]
        m = moments.get(name)
        for f in range(len(FEATURE_NAMES)):
            cells.append(
                f"{m['mean'][f]:.3f} ({np.sqrt(m['variance'][f]):.3f})" if m is not None else NA
            )
        table.add_row(*cells)
    console.print(table)
    console.print(
        f"{len(path.transitions())} transitions; moments are the last fit's "
        f"(bar {path.fits[-1][0] if path.fits else NA}).",
        soft_wrap=True,
    )
