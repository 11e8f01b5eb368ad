"""Code tables of the risk engine: rule names, outcomes, ladder levels, states and causes.

Decisions and WAL events carry small integer codes (``int8``/``int16`` arrays) instead of
strings, so a step's checks of 4096 intents stay one compact record. These tuples are the
only mapping from code to name; they only ever grow at the end, and every batch event
lists the names it was written with, so a record decodes on its own.
"""

from __future__ import annotations

OUTCOMES: tuple[str, ...] = ("pass", "warn", "throttle", "reject", "halt")
"""Per-intent outcome (``RiskChecks.outcome`` indexes it; the record lists the names)."""
PASS, WARN, THROTTLE, REJECT, HALT = range(5)

RULES: tuple[str, ...] = (
    "none",  # passed unchanged, nothing bound
    "kill_switch",  # the kill switch fired: opening orders are refused
    "global_halt",  # the population's ladder is at HALT: opening orders are refused
    "max_drawdown",  # hard drawdown limit reached: opening orders are refused
    "ladder_halt",  # the agent's ladder is at HALT: opening orders are refused
    "no_price",  # the instrument has no last price yet
    "quote_age",  # the instrument's quote is older than max_quote_age_ns
    "spread",  # the instrument's bid/ask spread is wider than max_spread_bps
    "price_band",  # a limit price too far from the last price
    "order_rate",  # too many orders of the agent in the rate window
    "ladder_throttle",  # the ladder at THROTTLE scaled the opening qty down
    "max_position",  # |position + pending + qty| above max_position_lots
    "max_notional",  # per-instrument notional above max_notional
    "max_gross_notional",  # sum of the agent's notionals above max_gross_notional
    "min_cash",  # a buy would take cash below min_cash
    "ladder_warn",  # passed, but the ladder is at WARN (logged only)
    "vpin",  # VPIN-lite above vpin_block (reject) or vpin_throttle (throttle): opening only
    "imbalance",  # book imbalance against the order above max_imbalance: opening only
    "stale_quote",  # the quote has not changed for more than max_stale_bars: opening only
    "spread_shock",  # spread z-score vs earlier bars above spread_shock_z: opening only
    "bad_quote",  # the quote has no bid or ask <= bid (block_invalid_quotes): opening only
    "venue_minimum",  # below the venue's smallest order (quantity or value): opening only
)
RULE = {name: code for code, name in enumerate(RULES)}

BREACH_RULES: tuple[str, ...] = (
    "price_band",
    "order_rate",
    "max_position",
    "max_notional",
    "max_gross_notional",
    "min_cash",
)
"""Rules whose rejects and throttles count as the agent's *breaches* for the ladder.

Market-state rules (no_price, quote_age, spread, and the microstructure filters vpin,
imbalance, stale_quote, spread_shock, bad_quote) measure the feed, not the agent, and the
ladder/kill rules are consequences of a level already reached, so none of them count.
"""

LEVELS: tuple[str, ...] = ("NORMAL", "WARN", "THROTTLE", "HALT")
NORMAL, WARN_LEVEL, THROTTLE_LEVEL, HALT_LEVEL = range(4)

STATES: tuple[str, ...] = ("ACTIVE", "REDUCING", "HALTED")
"""ACTIVE: NORMAL/WARN/THROTTLE. REDUCING: ladder at HALT, only reducing orders pass.
HALTED: the kill switch fired; only reducing orders (the flattening) pass."""
ACTIVE, REDUCING, HALTED = range(3)

CAUSES: tuple[str, ...] = (
    "none",
    "drawdown",  # drawdown from peak equity crossed a ladder threshold
    "breaches",  # breach count in the window crossed a ladder threshold
    "max_drawdown",  # the hard max_drawdown_pct limit
    "kill",  # the kill switch
    "recovery",  # drawdown fell below recover_below_pct (WARN/THROTTLE only)
    "reset",  # the agent's row was reset (a new agent was born into it)
)
CAUSE = {name: code for code, name in enumerate(CAUSES)}

GLOBAL = -1
"""Agent id used for the population's (global) row in ladder transitions."""
