"""Canonical events: everything that enters or leaves the kernel, as msgspec tagged Structs.

Every event carries the correlation ids that apply to it (``run_id`` and ``session_id``
always; ``agent``/``decision_id``/``order_id`` where they exist). Prices and quantities are
integers in instrument ticks and lots (see :mod:`scarline.instrument`). Per-agent arrays
(a whole population's decision in one step) travel as :class:`Array`: raw little-endian
bytes, base64 in JSON, exact and compact.

The WAL envelope (``seq``, ``ts``, ``kind``, ``h``) lives in :mod:`scarline.journal`; the
``kind`` there is the event's tag, so events themselves carry no timestamp of their own
beyond what their meaning needs.

Adding an event: subclass :class:`Event`, add it to the :data:`AnyEvent` union; bump
:data:`SCHEMA_VERSION` when an existing event changes shape, or when a kind some released
version wrote is removed (its WALs would no longer decode).
"""

from __future__ import annotations

from typing import Literal, get_args

import msgspec
import numpy as np

from scarline.array_packing import (
    is_packed,
    pack,
    raw_dtype,
    unfilled,
    unpack,
    values_dtype,
)
from scarline.instrument import InstrumentSpec

SCHEMA_VERSION = 15
"""15: the simulated broker no longer holds a buy's covering part to cash (see
:data:`COVER_UNCAPPED_SCHEMA`): the lots that cover a short fill whatever the cash, which may
go negative, so a short that outran the account (a dead agent's flattening, a kill) closes
instead of staying open; no event changed shape, and schema 14 runs replay as they were.
14: the pre-trade check counts working orders by side (see :data:`GROSS_PENDING_SCHEMA`):
a buy is checked as if every working buy fills and no working sell does, and conversely, so
a fill never takes a position past ``max_position_lots`` when a working order of the other
side fails; schema 13 runs replay as they were, netting them.
13: the WAL stores long numeric arrays packed (see :data:`PACKED_ARRAYS_SCHEMA`): a
record's values are the same, its bytes fewer; schema 12 runs replay as they were.
12: a Q-network group's DQN update runs compiled unless its config says otherwise
(``qnet.update = "auto"``, the default, is ``"compiled"`` from this schema on; see
:data:`COMPILED_UPDATE_SCHEMA`); no event changed shape, and schema 11 runs replay as they
were, their ``"auto"`` updating through torch.
11: Q-network agents act through one compiled call (observation, network, argmax; see
:data:`COMPILED_ACTING_SCHEMA`); no event changed shape, and schema 10 runs replay as they
were, acting through torch.
10: a ``QuietRun`` holds the records of every row of it that decided anew (and whose orders
passed the risk check in full), not only its first row's: a run no longer ends before each
such row, so a single strategy's backtest writes about one record per 256 rows where it
wrote one per crossover; schema 9 runs replay as they were.
9: a ``QuietRun`` holds the records of its rows that its arrays do not give (``events``:
a first row's ``Decision``, ``RiskChecks`` and ``Orders`` when it decided anew, and the
``Fills`` of the rows that filled orders), and runs are cut at rows that are multiples of
256; schema 8 runs replay as they were.
8: ``QuietRun`` (a backtest journals a run of quiet rows as one record instead of their
``Bar``, ``Quote`` and ``Decision`` records, which it stands for exactly); schema 7 runs
replay as they were, row by row.
7: ``OperatorFlag`` (a runtime flag an operator set through the API, journaled at the
step it acts from); nothing else changed, so schema 6 runs replay as they were.
6: one period return, one drawdown, one rolling window (``scarline.stats``,
``features.window``): the mean-reversion baseline's decisions, the scars' drawdown % and
trust, and the evolution's fitness and drawdown descriptor are computed with new arithmetic.
5: ``DataWarnings`` (G0 warnings journaled at the session's start). 4: ``flags.exploration``
is enforced (default true) and ``Decision`` carries ``trust``; six single-order kinds no
version ever wrote are gone. See docs/wal.md, "Schema versions"."""

QUIET_RUN_SCHEMA = 8
"""The first schema whose backtests journal runs of quiet rows as ``QuietRun`` records."""

FILL_RUN_SCHEMA = 9
"""The first schema whose quiet runs hold decisions, risk checks, orders and fills, cut at
rows that are multiples of 256 (see :class:`QuietRun`)."""

SPAN_RUN_SCHEMA = 10
"""The first schema whose quiet runs go on past a row that decided anew (its records ride in
the run, whatever row of it it is), instead of ending before it."""

PACKED_ARRAYS_SCHEMA = 13
"""The first schema whose WAL stores an array of 32 numbers or more packed when that is
shorter (:mod:`scarline.array_packing`); before it every array was stored raw."""

COMPILED_UPDATE_SCHEMA = 12
"""The first schema whose ``qnet.update = "auto"`` (the default) is the compiled update
(:mod:`scarline.learning.update_kernel`); before it ``"auto"`` was torch's."""

COMPILED_ACTING_SCHEMA = 11
"""The first schema whose Q-network agents act through one compiled call
(:mod:`scarline.learning.acting`): each layer's sum in input order, so a Q-value may differ
from torch's batched product in its last bits, and an action on a near tie with it."""

GROSS_PENDING_SCHEMA = 14
"""The first schema whose risk check counts working buys and sells apart
(``RiskContext.pending_sells``); before it, their net (an order approved against a working
order of the other side could fill past a position limit when that order failed)."""

COVER_UNCAPPED_SCHEMA = 15
"""The first schema whose broker fills the part of a buy that covers the agent's short at
the bar's start whatever its cash (``SimBroker.cover_uncapped``; docs/execution.md, "Cash
cap on buys"); before it the cash cap cut covers too, and a short that had lost more than
the account could never be closed."""

REPLAYABLE_SCHEMAS = (6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
"""Schemas this code re-executes: 6 to 15 (7 to 15 only added a kind or a field, changed
where quiet runs end, how Q-networks compute their actions and updates, how arrays are
stored, how working orders count in the risk check, or whether covers are held to cash).
Schemas 4 and 5 decode, but their journaled decisions, scars, trust and selections came
from the arithmetic schema 6 replaced, so re-executing them would not be the runs that were
recorded."""


class Array(msgspec.Struct, frozen=True, array_like=True):
    """A numpy array as ``[dtype, shape, raw little-endian bytes]``; exact round trip.

    From schema 13 a WAL stores a long numeric array packed (:mod:`scarline.array_packing`):
    ``dtype`` then also says how (``"<i8~u2+600000"``) and ``data`` holds the narrow form.
    :meth:`numpy` gives the values either way; :attr:`values_dtype` is their dtype.
    """

    dtype: str
    shape: list[int]
    data: bytes

    @classmethod
    def of(cls, values: np.ndarray) -> Array:
        a = np.ascontiguousarray(values)
        name = _NAMES.get(a.dtype)  # the dtype's str, once it is known to need no swap
        if name is None:
            if a.dtype.byteorder == ">":
                a = a.astype(_little(a.dtype))
            name = _NAMES[a.dtype] = a.dtype.str
        if not a.size and a.ndim == 1:  # most of a step's decision arrays: built once per dtype
            empty = _EMPTY_ARRAYS.get(name)
            if empty is None:
                empty = _EMPTY_ARRAYS[name] = cls(name, [0], b"")
            return empty
        # a single strategy's crossover builds ~33 arrays of one or two values: this is hot
        return cls(name, list(a.shape), a.tobytes())

    def numpy(self) -> np.ndarray:
        """The values; :class:`~scarline.array_packing.ArrayError` (a ``ValueError``) when the
        stored dtype is no bool or number, or the shape does not exactly fill ``data``: a
        record is input, and its shape must not ask numpy for more than its bytes."""
        spec = self.dtype
        if is_packed(spec):
            return unpack(spec, self.shape, self.data)
        dtype, shape = raw_dtype(spec), self.shape
        try:  # numpy checks that the bytes fill the shape exactly (but for a -1), for free
            values = np.frombuffer(self.data, dtype=dtype).reshape(shape)
        except (ValueError, OverflowError):  # a size, side or rank numpy cannot hold
            raise unfilled(f"array {spec!r}", shape, len(self.data)) from None
        if -1 in shape:  # numpy's "whatever fills it"
            raise unfilled(f"array {spec!r}", shape, len(self.data))
        return values

    @property
    def values_dtype(self) -> np.dtype:
        """The dtype of the values (``dtype`` without how they are packed)."""
        return values_dtype(self.dtype)

    def packed(self) -> Array:
        """This array in its packed form (schema 13's WAL), or itself when that saves nothing."""
        if is_packed(self.dtype):
            return self
        done = pack(self.dtype, self.data)
        return self if done is None else Array(done[0], self.shape, done[1])


_EMPTY_ARRAYS: dict[str, Array] = {}  # Array.of a zero-length 1-D array, per dtype
_NAMES: dict[np.dtype, str] = {}  # native and little-endian dtypes' str


def _little(dtype: np.dtype) -> np.dtype:
    """``dtype`` in little-endian order (">" is the only order that is not little or native)."""
    return dtype.newbyteorder("<") if dtype.byteorder == ">" else dtype


class Event(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="kind"):
    """Base of every canonical event: the run and session it belongs to."""

    run_id: str
    session_id: str


# --- session -----------------------------------------------------------------------------


class SessionStart(Event, frozen=True, kw_only=True):
    """Opens a session: the universe, instruments and everything replay needs to rebuild it."""

    profile: str
    universe: str
    instruments: list[InstrumentSpec]
    exog_names: list[str] = []
    has_ohlc: bool = True
    has_volume: bool = True
    frequency: str = ""
    config_hash: str = ""
    seed: int = 0
    schema_version: int = SCHEMA_VERSION


class DataWarnings(Event, frozen=True, kw_only=True):
    """G0 DataTruth warnings on the rows the run trades, journaled right after
    ``SessionStart``: one entry per finding (``row`` is the 1-based source row, ``line`` its
    file line or 0, ``symbol``/``column`` "" when none), in the report's order. ``allowed``
    names the checks the config refuses that ``--allow-data-warnings`` let through. An
    operator input like a kill: replay reads it from the WAL and journals it again."""

    source: str
    check: list[str]
    row: list[int]
    line: list[int]
    symbol: list[str]
    column: list[str]
    message: list[str]
    allowed: list[str] = []


class SessionEnd(Event, frozen=True, kw_only=True):
    steps: int
    decision_trace_hash: str
    reason: Literal["completed", "halted", "killed", "error"] = "completed"


# --- market ------------------------------------------------------------------------------


class Bar(Event, frozen=True, kw_only=True):
    """One OHLCV bar of one instrument, in ticks and lots; ``exog`` aligns with ``exog_names``."""

    instrument: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    exog: list[float] = []


class Quote(Event, frozen=True, kw_only=True):
    """Top of book (L1)."""

    instrument: int
    bid: int
    ask: int
    bid_size: int
    ask_size: int


# --- decisions ---------------------------------------------------------------------------


class Decision(Event, frozen=True, kw_only=True, omit_defaults=True):
    """The decisions of many agents in one step (batch form), in one of two layouts.

    *Changes* (``instrument`` present; what the kernel writes): the K cells (``agents[k]``,
    ``instrument[k]``) whose action or target changed since the session's previous Decision
    (everything is 0 before the first), each ``[K]``; the dense decision of every step
    follows exactly (see :mod:`scarline.decisions`). At N = 4096 a dense step is ~1 MB.
    *Dense* (``instrument`` absent): ``agents`` is ``int64[N]``; ``actions`` is ``[N, M]``
    (policy-specific action codes, e.g. -1/0/+1 for short/flat/long); ``target_qty`` is
    ``int64[N, M]`` in lots.

    Attribution (why, under what market): ``reasons`` ``uint8`` per cell (see
    :data:`REASONS`); ``regime`` the committed macro regime in force (-1: regimes off);
    ``profiles`` ``int8[M]`` the router profile in force per instrument (absent: router off);
    ``features_hash`` BLAKE2b-128 of what the policies saw at this step (the bars' closes and
    every learning group's feature row), so a diary row can point at its inputs; ``trust``
    ``float64`` per cell, the deciding agent's trust after this step's update (see
    :mod:`scarline.evolution.scars`; absent in older records).
    """

    decision_id: str
    step: int
    policy: str
    agents: Array
    actions: Array
    target_qty: Array
    instrument: Array | None = None
    reasons: Array | None = None
    regime: int = -1
    profiles: Array | None = None
    features_hash: str = ""
    trust: Array | None = None


class QuietRun(Event, frozen=True, kw_only=True, omit_defaults=True):
    """Rows ``step .. step + n - 1`` of a backtest that the kernel's quiet path stepped
    (:mod:`scarline.quiet_path`; schema 8): in schema 8 rows in which nothing happened but
    the passing of a bar (no decision changed, no order was pending, nobody's risk level,
    scars or life moved); since schema 9 also rows that decided anew or filled orders, whose
    records ``events`` holds.

    It stands for exactly the records those rows would have written one by one — each row's
    ``Bar`` per instrument with a bar, then its ``Quote`` records, then a ``Decision`` with no
    changed cell — which :func:`scarline.journal.quiet_run.expand` gives back, equal to the
    last bit (``features_hash`` is the rows' closes', as for rule agents). ``ts``: each
    row's timestamp (the envelope's is the last row's); ``valid`` ``bool[n, M]``; OHLCV
    ``int64[n, M]`` (0 where no bar); ``exog`` ``float64[n, M, K]``; quotes ``int64[n, M]``
    when the market has them; ``regime`` ``int64[n]`` when regimes are on; ``actions_dtype``
    the dtype of the quiet Decisions' (empty) action arrays.

    Schema 9: ``events`` holds the records of its rows that the arrays do not give, each
    with its ``step``, in the order the rows wrote them: where the first row decided anew
    (and its orders passed the risk check in full), its ``Decision``, ``RiskChecks`` and
    ``Orders``; the ``Fills`` of a row that filled orders (the first two rows at most). A
    row writes them after its quotes, and a row with no ``Decision`` among them the quiet
    one after them. A run never crosses a row that is a multiple of 256 (in schema 8 runs
    were cut 256 rows after wherever the path had last computed decisions). Schema 10: any
    row of the run may be one that decided anew (up to 32 of them), and the row after each
    the one that filled its orders; a schema 9 run ended before such a row, which began the
    next run.
    """

    step: int
    policy: str
    actions_dtype: str
    ts: Array
    valid: Array
    open: Array
    high: Array
    low: Array
    close: Array
    volume: Array
    exog: Array
    bid: Array | None = None
    ask: Array | None = None
    bid_size: Array | None = None
    ask_size: Array | None = None
    regime: Array | None = None
    events: list[Fills | Decision | RiskChecks | Orders] = []


REASONS = ("unknown", "greedy", "explore", "rule", "random", "forced-flat")
"""Why a decision cell changed: a Q-agent's argmax or exploration draw, a rule baseline, a
random-entry placebo, or a forced flat (death, kill switch)."""
UNKNOWN, GREEDY, EXPLORE, RULE, RANDOM, FORCED_FLAT = range(len(REASONS))


# --- orders, fills, risk: one record per step for the whole population -------------------


class Orders(Event, frozen=True, kw_only=True):
    """Order intents the risk engine approved at one step (sent to the broker).

    Arrays of K rows: ``order_id``, ``agent``, ``instrument``, ``qty`` (int64), ``side``,
    ``order_type`` (int8: 0 market, 1 limit), ``limit_price`` (int64 ticks).
    """

    decision_id: str
    step: int
    order_id: Array
    agent: Array
    instrument: Array
    side: Array
    qty: Array
    order_type: Array
    limit_price: Array


class Fills(Event, frozen=True, kw_only=True):
    """Fills of one step: F rows of ``order_id``, ``agent``, ``instrument``, ``side``, ``qty``,
    ``price`` and ``ref_price`` (ticks), ``fee`` and ``slippage`` (cash units), ``maker``."""

    step: int
    order_id: Array
    agent: Array
    instrument: Array
    side: Array
    qty: Array
    price: Array
    ref_price: Array
    fee: Array
    slippage: Array
    maker: Array


class Rejects(Event, frozen=True, kw_only=True):
    """Orders (or remainders) the broker refused at one step; ``reason`` indexes ``reasons``."""

    step: int
    order_id: Array
    agent: Array
    qty: Array
    reason: Array
    reasons: list[str]


class RiskChecks(Event, frozen=True, kw_only=True):
    """Every pre-trade verdict of one step: K intents with the binding rule and its figures.

    ``outcome`` indexes ``outcomes`` and ``rule`` indexes ``rules`` (both listed in the
    record, so it reads on its own); ``value``/``limit`` are the rule's measured value and
    limit; ``requested``/``approved`` are lots.
    """

    decision_id: str
    step: int
    order_id: Array
    agent: Array
    instrument: Array
    outcome: Array
    rule: Array
    value: Array
    limit: Array
    requested: Array
    approved: Array
    outcomes: list[str]
    rules: list[str]


class RiskStateChange(Event, frozen=True, kw_only=True):
    """Ladder transitions at one step (agent -1 = the global level)."""

    step: int
    agent: Array
    from_level: Array
    to_level: Array
    cause: Array
    value: Array
    limit: Array
    levels: list[str]
    causes: list[str]


class KillSwitch(Event, frozen=True, kw_only=True):
    """The kill switch fired: everything is flattened and halted from this step on.

    An operator input like a bar: replay reads it from the WAL and fires at the same step.
    """

    step: int
    reason: str
    source: Literal["config", "flag-file", "cli", "api"]


# --- life events --------------------------------------------------------------------------


class Scars(Event, frozen=True, kw_only=True):
    """Permanent loss events of one step: ``cause`` indexes ``causes``, ``value`` is the
    measured loss in %, ``total`` the agent's scar count after this one."""

    step: int
    agent: Array
    cause: Array
    value: Array
    total: Array
    causes: list[str]


class Deaths(Event, frozen=True, kw_only=True):
    """Agents ruined at one step (equity at or below the ruin threshold, cash units)."""

    step: int
    agent: Array
    equity: Array
    reason: str = "ruin"


class Births(Event, frozen=True, kw_only=True):
    """Newborns of one life cycle: ``agent`` is the slot (the row decisions refer to),
    ``agent_id`` the newborn's lineage id, ``parent_id`` its parent's; ``genome_hash`` the
    policy hash of its genome at birth (after mutation). ``culled`` lists the ids of living
    agents replaced to make room (the ruined were journaled as Deaths when they fell)."""

    step: int
    agent: Array
    agent_id: Array
    parent_id: Array
    genome_hash: list[str]
    culled: Array


class Mutations(Event, frozen=True, kw_only=True):
    """What one operator changed in newborns: ``agent`` slots, ``fields`` the genes it
    touched, ``before``/``after`` ``float64[K, len(fields)]``."""

    step: int
    operator: str
    agent: Array
    fields: list[str]
    before: Array
    after: Array


class RegimeChange(Event, frozen=True, kw_only=True):
    """The committed macro regime changed at ``step`` (after the state machine's hysteresis)."""

    step: int
    from_regime: str
    to_regime: str
    confidence: float


class DriftAlarms(Event, frozen=True, kw_only=True):
    """The drift sentry fired for ``agent`` rows at ``step``: ``detector`` indexes
    ``detectors``; ``change_step`` is the detector's estimate of when the drift began; the
    ``actions`` listed were applied from this step on (e.g. freeze exploration, halve size)."""

    step: int
    agent: Array
    detector: Array
    statistic: Array
    change_step: Array
    size_scale: Array
    detectors: list[str]
    actions: list[str]


# --- live feed: inputs a paper session journals next to its bars -----------------------------


class DataFault(Event, frozen=True, kw_only=True):
    """A live bar that failed the live G0 checks (a bad print, a stale or malformed bar):
    journaled instead of a ``Bar``, never traded on. ``step`` is the step it was journaled
    at (before that step's bars; the session's step count when journaled at its end);
    ``bar_ts`` the bar's venue open time (ns); prices are the venue's decimal text."""

    step: int
    instrument: int
    symbol: str
    bar_ts: int
    rule: str
    message: str
    open: str
    high: str
    low: str
    close: str
    volume: str


class FeedGap(Event, frozen=True, kw_only=True):
    """Bars ``[start, end)`` (venue open times, ns) of one instrument that will not come:
    the venue has none (``venue``) or no observation fell in them (``no_observation``)."""

    step: int
    instrument: int
    symbol: str
    start: int
    end: int
    bars: int
    reason: str


class FeedOutage(Event, frozen=True, kw_only=True):
    """The feed was down from ``start`` to ``end`` (wall time, ns; the stop time when
    ``ongoing``): ``failures`` failed requests, ``bars_missed`` bar closes per symbol in it,
    ``kinds`` why (``rate_limit``, ``server``, ``timeout``, ``network`` …)."""

    step: int
    start: int
    end: int
    failures: int
    bars_missed: int
    kinds: list[str]
    last_error: str
    ongoing: bool = False


class PolicySwap(Event, frozen=True, kw_only=True):
    """Rows ``rows`` of agent group ``group`` act with policy ``policy_hash`` (a genome in the
    run's vault; "" parks them flat) from ``step`` on: a live session follows the ledger's
    ``stage``. ``policy`` is the ledger's id, ``reason`` why, ``ledger_head`` the ledger's
    head when read. An input: replay swaps again (docs/paper.md)."""

    step: int
    group: int
    rows: list[int]
    policy: str
    policy_hash: str
    stage: str
    reason: str
    ledger_head: str


class OperatorFlag(Event, frozen=True, kw_only=True):
    """An operator set runtime flag ``name`` to ``value`` from ``step`` on (``source`` the
    channel, e.g. ``api``; ``key_id`` the caller's key id, never the token). An input: replay
    journals and applies it again (see ``scarline.service.view.RUNTIME_FLAGS``)."""

    step: int
    name: str
    value: bool
    source: str
    key_id: str


FeedInput = DataFault | FeedGap | FeedOutage | OperatorFlag
"""What a live session journals at a step's start besides bars: its feed's records and the
operator's flag changes; replay journals them again."""


AnyEvent = (
    SessionStart
    | DataWarnings
    | SessionEnd
    | Bar
    | Quote
    | Decision
    | QuietRun
    | Orders
    | Fills
    | Rejects
    | RiskChecks
    | RiskStateChange
    | KillSwitch
    | Scars
    | Deaths
    | Births
    | Mutations
    | RegimeChange
    | DriftAlarms
    | DataFault
    | FeedGap
    | FeedOutage
    | PolicySwap
    | OperatorFlag
)
"""Every event the WAL can hold: the one list, which the WAL reader decodes with."""

EVENT_TYPES: tuple[type[Event], ...] = get_args(AnyEvent)
"""The classes of :data:`AnyEvent`, in its order."""

KINDS: dict[str, type[Event]] = {t.__name__: t for t in EVENT_TYPES}
"""Event classes by kind (the WAL envelope's ``kind``, each class's tag)."""


def kind_of(event: Event) -> str:
    return type(event).__name__
