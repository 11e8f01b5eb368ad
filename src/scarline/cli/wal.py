"""``scarline wal``: inspect and verify a run's write-ahead log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer

from scarline.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    console,
    fail,
    print_json,
    require_run_dir,
)
from scarline.cli.help import command, group
from scarline.rundir import RunDir, implied_island_run_id

if TYPE_CHECKING:
    from scarline.events import Array
    from scarline.journal.manifest import RunManifest
    from scarline.journal.reader import Record
    from scarline.journal.seal import SealResult

app = group("Inspect and verify a run's write-ahead log.")

RunDirArg = Annotated[Path, typer.Argument(help="A run directory (holds wal/).")]


def _wal_dir(run_dir: Path) -> Path:
    """``RUN_DIR/wal``, or exit 2 naming what is missing (the journal's own message)."""
    from scarline.journal.segments import require_wal_dir

    return require_wal_dir(RunDir(require_run_dir(run_dir)).wal)


@command(app, "verify")
def verify_cmd(
    run_dir: RunDirArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check the hash chain and seq of every record, the manifest's head, record count and
    segments (names, sizes, records, seq ranges, sha256), and manifest.sig when the run is
    signed; exit 1 if anything is bad (an invalid manifest too)."""
    from scarline.journal import verify
    from scarline.journal.verify import verify_as_recorded

    wal_dir = _wal_dir(run_dir)
    manifest = _manifest(run_dir)
    if manifest is None:
        report = verify(wal_dir, run_identity(run_dir)[0])
        signature = None
    else:
        report = verify_as_recorded(wal_dir, manifest)
        signature = _signature(run_dir)
    ok = report.ok and (signature is None or signature["status"] != "bad")
    if as_json:
        print_json({**msgspec.structs.asdict(report), "ok": ok, "signature": signature})
    elif ok:
        signed = "" if signature is None else f" (manifest {_signed_note(signature)})"
        console.print(f"ok: {report.records} records, head {report.head}{signed}", soft_wrap=True)
    if not report.ok:
        fail(report.describe(), EXIT_CHECK_FAILED)
    if not ok:
        assert signature is not None
        fail(f"{run_dir}: {signature['problem']}", EXIT_CHECK_FAILED)


def _manifest(run_dir: Path) -> RunManifest | None:
    """``run_dir``'s manifest, None when the run has none (it did not finish); a manifest
    that is not a whole run manifest fails the check: it is what binds the WAL."""
    from scarline.journal.manifest import read_manifest

    path = RunDir(run_dir).manifest
    if not path.exists() and not path.is_symlink():
        return None
    return read_manifest(run_dir)


def _signature(run_dir: Path) -> dict[str, str | None]:
    """Whether manifest.sig holds for manifest.json: ``status`` signed (``key_id``),
    unsigned (no manifest.sig: a run without a key) or bad (``problem``). Whether the key
    is trusted is the ledger's question (docs/security.md)."""
    from scarline.journal.signature import check_manifest

    if not RunDir(run_dir).root.joinpath(RunDir.MANIFEST_SIG).exists():
        return {"status": "unsigned", "key_id": None, "problem": ""}
    check = check_manifest(run_dir)
    key = check.public_key.key_id if check.public_key is not None else None
    if not check.ok:
        return {"status": "bad", "key_id": key, "problem": check.problem}
    return {"status": "signed", "key_id": key, "problem": ""}


def _signed_note(signature: dict[str, str | None]) -> str:
    if signature["status"] == "signed":
        return f"signed by key {signature['key_id']}"
    return "unsigned"


@command(app, "cat")
def cat_cmd(
    run_dir: RunDirArg,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="Only this event kind (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most this many records.")] = None,
    from_seq: Annotated[int | None, typer.Option(min=0, help="Start at this seq.")] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="Arrays as stored: dtype, shape and base64 data.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON list instead of JSON lines.")
    ] = False,
) -> None:
    """Print records as JSON lines: seq, ts, kind, data (arrays as nested lists unless --raw).

    With --kind, a backtest's QuietRun records give the records of that kind they stand for
    (each with the run's seq): its rows' bars, quotes, decisions, risk checks, orders and
    fills."""
    from itertools import islice

    from scarline.events import KINDS
    from scarline.journal import read_records
    from scarline.journal.quiet_run import ROW_KINDS, row_records

    wal_dir = _wal_dir(run_dir)
    unknown = sorted(set(kind or ()) - KINDS.keys())
    if unknown:
        fail(
            f"unknown event kind {', '.join(unknown)} (known: {', '.join(KINDS)})",
            EXIT_BAD_INPUT,
        )
    records = read_records(wal_dir, kinds=kind or None, seq_from=from_seq, limit=limit)
    if kind and set(kind) & ROW_KINDS:  # the runs' rows too
        wanted = set(kind)
        runs = read_records(wal_dir, kinds=[*kind, "QuietRun"], seq_from=from_seq)
        records = islice((r for r in row_records(runs) if r.kind in wanted), limit)
    rows = (
        {
            "seq": rec.seq,
            "ts": rec.ts,
            "kind": rec.kind,
            "data": rec.data if raw else _humanized(wal_dir, rec),
        }
        for rec in records
    )
    if as_json:
        print_json(list(rows))
        return
    for row in rows:
        print_json(row)


@command(app, "recover")
def recover_cmd(
    run_dir: RunDirArg,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: what was dropped, if anything.")
    ] = False,
) -> None:
    """Truncate a torn last line (a crash mid-write: no newline); exit 1 and truncate
    nothing when anything earlier is bad, when the last line is newline-terminated but fails
    its check (tampering or corruption, named by seq), or when the run is finished
    (manifest.json is written last, so its WAL cannot be torn)."""
    from scarline.journal import recover

    wal_dir = _wal_dir(run_dir)
    run_id, _ = run_identity(run_dir)
    dropped = recover(wal_dir, run_id)
    if as_json:
        print_json({"recovered": dropped is not None, "dropped": dropped})
        return
    if dropped is None:
        console.print("nothing to recover: the last record is intact")
        return
    console.print(
        f"truncated {dropped.segment} at byte {dropped.offset}: dropped {dropped.dropped_bytes} "
        f"bytes (torn record seq {dropped.seq})",
        soft_wrap=True,
    )


@command(app, "seal")
def seal_cmd(
    run_dir: RunDirArg,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id",
            help="The run's id, when the directory is not named after it and has no "
            "session.json (the WAL only verifies against its own run id).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: what was sealed.")
    ] = False,
) -> None:
    """Finish a run that stopped before writing its manifest: write manifest.json from the WAL.

    Checks the chain, cuts only a torn last line (reported), and writes a manifest marked
    sealed_after_crash that binds the records kept; `scarline replay` then proves parity over
    them. Exit 0 when sealed or when the run already has a manifest, 1 when the WAL fails its
    check (a complete record with a bad hash is tampering, named by seq, and never cut), 2 when
    RUN_DIR holds nothing to seal (no WAL record, or no market step).
    """
    from scarline.journal.seal import seal_run

    require_run_dir(run_dir)
    result = seal_run(run_dir, run_id or run_identity(run_dir)[0])
    if as_json:
        print_json(result)
    elif result.status == "finished":
        console.print(f"nothing to seal: {run_dir} already has a manifest", soft_wrap=True)
    elif result.status == "sealed":
        _print_sealed(run_dir, result)
    if result.status == "empty":
        cut = result.truncated
        torn = "" if cut is None else f" (a torn record seq {cut.seq} was cut)"
        fail(f"{run_dir}: empty run, nothing to seal: {result.reason}{torn}", EXIT_BAD_INPUT)


def _print_sealed(run_dir: Path, result: SealResult) -> None:
    """Human output of a seal: what the manifest binds, and what was cut."""
    cut = result.truncated
    if cut is not None:
        console.print(
            f"truncated {cut.segment} at byte {cut.offset}: dropped {cut.dropped_bytes} bytes "
            f"(torn record seq {cut.seq})",
            soft_wrap=True,
        )
    scope = (
        "the session had ended, only the manifest was missing"
        if result.session_ended
        else "the WAL stops mid-run: replay compares this prefix"
    )
    console.print(
        f"sealed {run_dir}: {result.records} records, {result.steps} steps, head "
        f"{result.head} ({scope})",
        soft_wrap=True,
        markup=False,
    )


def run_identity(run_dir: Path) -> tuple[str, str | None]:
    """The run id and the WAL head a manifest bound (if any).

    Taken from ``manifest.json``, else ``session.json``, else the directory name; never from
    the WAL itself, whose first record may be the one that was tampered with.
    """
    require_run_dir(run_dir)
    for name in (RunDir.MANIFEST, RunDir.SESSION):
        path = run_dir / name
        if not path.is_file():
            continue
        try:
            doc = msgspec.json.decode(path.read_bytes())
        except msgspec.DecodeError as err:
            fail(f"{path}: not valid JSON ({err})", EXIT_BAD_INPUT)
        except RecursionError:
            fail(f"{path}: values nested too deeply to be a run's", EXIT_BAD_INPUT)
        run_id = doc.get("run_id") if isinstance(doc, dict) else None
        if isinstance(run_id, str) and run_id:
            head = doc.get("wal_head") if name == RunDir.MANIFEST else None
            return run_id, head if isinstance(head, str) and head else None
    island = implied_island_run_id(run_dir)
    if island is not None and _first_run_id(RunDir(run_dir).wal) == island:
        return island, None  # an interrupted island of `scarline evolve`
    return run_dir.resolve().name, None


def _first_run_id(wal_dir: Path) -> str | None:
    """The run id the WAL's first record claims (None if unreadable): it only chooses between
    the ids the directory's path implies, never names one of its own."""
    from scarline.journal.segments import list_segments

    if not wal_dir.is_dir() or not (segments := list_segments(wal_dir)):
        return None
    try:
        with segments[0].open("rb") as fh:
            first = msgspec.json.decode(fh.readline())
    except (OSError, msgspec.DecodeError, RecursionError):
        return None
    data = first.get("data") if isinstance(first, dict) else None
    run_id = data.get("run_id") if isinstance(data, dict) else None
    return run_id if isinstance(run_id, str) else None


def _humanized(wal_dir: Path, rec: Record) -> Any:
    """``rec.data`` humanized; a stored array that does not decode (a chain-valid but edited
    record: an object dtype, a shape its bytes do not fill) is a :class:`WalError` naming
    the record, not a traceback."""
    from scarline.errors import WalError

    try:
        return humanize(rec.data)
    except ValueError as err:
        raise WalError(f"{wal_dir / rec.segment}: seq {rec.seq} ({rec.kind}): {err}") from None


def humanize(value: Any) -> Any:
    """``value`` as JSON-ready builtins, with every :class:`Array` as a nested list of numbers."""
    from scarline.events import Array

    return _humanize(value, Array)


def _humanize(value: Any, array: type[Array]) -> Any:
    if isinstance(value, array):
        return value.numpy().tolist()
    if isinstance(value, msgspec.Struct):
        config = value.__struct_config__
        out: dict[str, Any] = {}
        if config.tag_field is not None:
            out[config.tag_field] = config.tag
        for field in msgspec.structs.fields(value):
            item = getattr(value, field.name)
            if config.omit_defaults and item == field.default:  # as the WAL stores it
                continue
            out[field.name] = _humanize(item, array)
        return out
    if isinstance(value, list | tuple):
        return [_humanize(item, array) for item in value]
    return value
