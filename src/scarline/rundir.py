"""The run directory: every file and folder a run, its gates and its tools write, named once.

``scarline run`` creates ``RUNS/<run_id>/`` and everything after it — replay, gates, the
diary, the ledger, the CLI — finds a run's files through :class:`RunDir`, never by spelling
a name again. Only names and paths live here (no I/O, nothing heavy to import), so the
lightest CLI command can use it.

=====================  ==============================================================
``config.toml``        the config snapshot, written first
``wal/``               the write-ahead log segments
``session.json``       what was traded and where the data came from
``manifest.json``      binds config, code, seed, WAL segments and artifacts by sha256
``weights/``           learning groups' weights, ``group<k>.npz``
``theory/``            the drift sentry's theory packets, one JSON file per alarm
``lineage.parquet``    an evolving run's family tree
``vault/``             an evolving run's genome packs
``diary.parquet``      the decision diary
``report.html``        the report, its figures in ``plots/``
``gates.json``         the gate report (``scarline gates``), bound into the manifest
``manifest.sig``       the run key's signature of ``manifest.json`` (``gates.sig``: of
                       ``gates.json``, by a gate key)
``KILL``               the operator's kill flag (also at the runs root, for all runs)
``error.log``          tracebacks of unexpected errors while the CLI wrote this run
=====================  ==============================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

_ISLAND_DIR = re.compile(r"island-(\d+)")


def island_dir_name(island: int) -> str:
    """Island ``island``'s run directory in its evolve directory: ``island-<k>``."""
    return f"island-{island}"


def island_run_id(evolve_id: str, island: int) -> str:
    """The run id of island ``island`` of ``scarline evolve``: ``<evolve_id>-island-<k>``."""
    return f"{evolve_id}-{island_dir_name(island)}"


def implied_island_run_id(run_dir: Path) -> str | None:
    """The run id an island directory's path implies (``<evolve dir>/island-<k>``), or None
    when the directory is not named like one. An island is not named after its run id, and
    an interrupted one has no session.json or manifest that would say it."""
    path = run_dir.resolve()
    m = _ISLAND_DIR.fullmatch(path.name)
    if m is None or not path.parent.name:
        return None
    return island_run_id(path.parent.name, int(m.group(1)))


@dataclass(frozen=True)
class RunDir:
    """The paths of one run directory (``RunDir(path).manifest`` …); the class attributes
    are the names relative to it (``RunDir.MANIFEST`` …), for manifests and evidence that
    record relative paths."""

    root: Path

    CONFIG: ClassVar[str] = "config.toml"
    CONFIG_JSON: ClassVar[str] = "config.json"
    WAL: ClassVar[str] = "wal"
    SESSION: ClassVar[str] = "session.json"
    MANIFEST: ClassVar[str] = "manifest.json"
    SUMMARY: ClassVar[str] = "summary.json"
    WEIGHTS: ClassVar[str] = "weights"
    THEORY: ClassVar[str] = "theory"
    LINEAGE: ClassVar[str] = "lineage.parquet"
    VAULT: ClassVar[str] = "vault"
    DIARY: ClassVar[str] = "diary.parquet"
    EQUITY: ClassVar[str] = "equity.parquet"
    TRADES: ClassVar[str] = "trades.parquet"
    REPORT: ClassVar[str] = "report.html"
    PLOTS: ClassVar[str] = "plots"
    GATES: ClassVar[str] = "gates.json"
    MANIFEST_SIG: ClassVar[str] = "manifest.sig"
    GATES_SIG: ClassVar[str] = "gates.sig"
    KILL: ClassVar[str] = "KILL"
    ERROR_LOG: ClassVar[str] = "error.log"

    @property
    def config(self) -> Path:
        return self.root / self.CONFIG

    @property
    def config_json(self) -> Path:
        return self.root / self.CONFIG_JSON

    @property
    def wal(self) -> Path:
        return self.root / self.WAL

    @property
    def session(self) -> Path:
        return self.root / self.SESSION

    @property
    def manifest(self) -> Path:
        return self.root / self.MANIFEST

    @property
    def summary(self) -> Path:
        """``run --json``'s object, written last (what ``scarline serve`` shows; not evidence:
        the manifest does not bind it)."""
        return self.root / self.SUMMARY

    @property
    def weights(self) -> Path:
        return self.root / self.WEIGHTS

    def group_weights(self, group: int) -> Path:
        """The weights of the ``group``-th learning group."""
        return self.weights / f"group{group}.npz"

    @property
    def theory(self) -> Path:
        return self.root / self.THEORY

    @property
    def lineage(self) -> Path:
        return self.root / self.LINEAGE

    @property
    def vault(self) -> Path:
        return self.root / self.VAULT

    @property
    def diary(self) -> Path:
        return self.root / self.DIARY

    @property
    def equity(self) -> Path:
        """Every agent's equity at every step (``scarline.equity_file``), bound in the
        manifest."""
        return self.root / self.EQUITY

    @property
    def trades(self) -> Path:
        """Every agent's round trips (``scarline.trades_file``), bound in the manifest."""
        return self.root / self.TRADES

    @property
    def report(self) -> Path:
        return self.root / self.REPORT

    @property
    def plots(self) -> Path:
        return self.root / self.PLOTS

    @property
    def gates(self) -> Path:
        return self.root / self.GATES

    @property
    def kill(self) -> Path:
        return self.root / self.KILL

    @property
    def error_log(self) -> Path:
        return self.root / self.ERROR_LOG

    def relative(self, path: Path) -> str:
        """``path`` relative to the run directory, ``/``-separated (manifest artifact keys)."""
        return path.relative_to(self.root).as_posix()
