"""The policy ledger: an append-only, hash-chained record of policies, approvals, promotions
and rollbacks (Research → Candidate → Shadow → LimitedLive → Production).

Storage reuses the journal's format and chain (see ``docs/wal.md``): a directory of
``000000.jsonl`` segments, one record per line, ``h`` = BLAKE2b-256(previous ``h`` ‖ canonical
bytes), the genesis hash being that of
:data:`~scarline.ledger.records.LEDGER_ID`, so the journal's scan checks its chain. A signed
anchor (``anchor.json``) holds its record count and head, so a deleted or cut record is
caught too; no write trims or rewrites a record (``docs/ledger.md``, ``docs/security.md``).
Ledger records are their own msgspec structs (not run events): a run's WAL cannot hold them
and the ledger cannot hold run events.

Each promotion re-checks, from the run directory the policy was registered from, all the
evidence its stage requires (see :data:`~scarline.ledger.checks.REQUIRES` and
``docs/ledger.md``) and binds what it checked (paths and sha256) into the ``Promotion``
record; without it, it refuses with a ``PromotionRefused`` naming what is missing.

Modules: ``records`` (the msgspec records and the envelope), ``state`` (stages and the
ledger folded into each policy's stage), ``store`` (:class:`~scarline.ledger.store.Ledger`:
the directory, read and appended under its lock), ``appender`` (one append at a time),
``anchor`` (the signed record count), ``policy`` (``policy.toml``: which keys may sign and
approve), ``signed`` (the signatures a promotion checks), ``checks`` (the evidence a
promotion re-checks) and ``audit`` (``ledger verify``). Nothing is re-exported here, so
importing the package stays light.
"""
