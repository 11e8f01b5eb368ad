"""Run and session manifests: the small JSON files that bind a run's evidence together.

``manifest.json`` names the config, code, seed and every WAL segment with its sha256 and
the chain head, plus the decision trace hash replay must reproduce; ``session.json``
describes what was traded and where the data came from.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from scarline.errors import WalError
from scarline.events import SCHEMA_VERSION
from scarline.instrument import InstrumentSpec
from scarline.journal.segments import segment_infos
from scarline.rundir import RunDir
from scarline.safe_write import replace_file

WAL_FORMAT_VERSION = 1


class SegmentEntry(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    records: int
    bytes: int
    sha256: str
    first_seq: int
    last_seq: int


def segment_entries(wal_dir: Path) -> list[SegmentEntry]:
    """The manifest's segment list, re-read from ``wal_dir``; an empty segment (a crash right
    after rotating, or a torn line cut from a fresh segment) holds no record and is left out."""
    return [
        SegmentEntry(
            name=s.name,
            records=s.records,
            bytes=s.bytes,
            sha256=s.sha256,
            first_seq=s.first_seq,
            last_seq=s.last_seq,
        )
        for s in segment_infos(wal_dir)
        if s.first_seq is not None and s.last_seq is not None
    ]


class CrashSeal(msgspec.Struct, frozen=True, kw_only=True):
    """How ``scarline wal seal`` finished a run that stopped before writing its manifest.

    ``session_ended``: the WAL ends with ``SessionEnd`` (the kernel finished; only the
    manifest was lost), so the decision trace hash is known and replay compares it. Without
    it the manifest covers a prefix: replay compares that prefix record by record and
    ``decision_trace_hash`` is empty. ``truncated_*`` describe a torn last line cut off.
    """

    sealed_at: str
    session_ended: bool
    truncated_seq: int | None = None
    truncated_bytes: int = 0


class RunManifest(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    session_id: str
    config_hash: str
    code_hash: str
    seed: int
    schema_version: int = SCHEMA_VERSION
    wal_format_version: int = WAL_FORMAT_VERSION
    wal_segments: list[SegmentEntry]
    wal_head: str
    wal_records: int
    decision_trace_hash: str
    steps: int
    agents: int
    data_hash: str
    gate_report_sha256: str | None = None
    artifacts: dict[str, str] = {}  # relative path -> sha256 (e.g. learned weights)
    created_at: str = ""
    environment: dict[str, str] = {}
    sealed_after_crash: CrashSeal | None = None  # written by `scarline wal seal`, not `run`
    strategy_sources: dict[str, str] = {}  # user strategy files and their own imports -> sha256


class SessionManifest(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    session_id: str
    profile: str
    universe: str
    source: str
    frequency: str
    instruments: list[InstrumentSpec]
    exog_names: list[str]
    rows: int
    start: str
    end: str
    data_hash: str
    schema_versions: dict[str, int]
    calendar: str = "exchange"  # "24/7": annualized on 365 days of 24 h
    has_volume: bool = True  # False: the bars carry no usable volume
    participation_cap: bool = False  # a cap on each bar's volume applied to fills
    feed: str = ""  # a live session's feed ("ccxt:binance", "coingecko", "replay")


def write_json(path: Path, obj: msgspec.Struct) -> None:
    """Write pretty JSON via temp file + rename: a crash never leaves half a manifest, and a
    link planted in the run directory is never written through."""
    replace_file(path, msgspec.json.format(msgspec.json.encode(obj), indent=2) + b"\n")


def read_manifest(run_dir: Path) -> RunManifest:
    path = RunDir(run_dir).manifest
    try:
        return msgspec.json.decode(path.read_bytes(), type=RunManifest)
    except FileNotFoundError:
        raise WalError(
            f"{path}: no run manifest (the run did not finish or this is not a run directory)"
        ) from None
    except msgspec.ValidationError as err:
        raise WalError(f"{path}: invalid run manifest: {err}") from None
    except msgspec.DecodeError as err:
        raise WalError(f"{path}: manifest is not valid JSON: {err}") from None
    except RecursionError:  # values nested thousands deep: no manifest writes them
        raise WalError(f"{path}: invalid run manifest: values nested too deeply") from None
