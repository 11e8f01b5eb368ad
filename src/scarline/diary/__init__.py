"""The decision diary: every decision cell of a run as one row of ``RUN_DIR/diary.parquet``.

Built after the run from what the run directory holds — the WAL, ``config.toml`` and, for
evolving runs, ``lineage.parquet`` and the genome vault — so it never touches the decision
trace or replay, and ``scarline diary RUN_DIR --rebuild`` rebuilds it for older runs.

A row is one (step, agent, instrument) cell of a ``Decision`` record (the cells whose action
or target changed; a dense record is reduced to its changes first) with what explains it
(policy hash, lineage id, regime, router profile, features hash, reason, the agent's trust,
risk template), what became of it (the order intent, the risk verdict, the fills) and,
filled in later, its ex-post outcome: the instrument's log return from the close of
``step`` to the close of ``step + outcome_horizon``, signed by the direction of the target
change (null past the run's end). See ``docs/diary.md`` for every column.

Everything is built with numpy/pyarrow array operations per WAL record (no per-row Python),
and written with fixed Parquet options and no timestamps: the same run gives the same bytes,
whose sha256 goes into the run manifest.

Modules: ``schema`` (the columns, file name, errors), ``scan`` (one pass over the WAL),
``joins`` (orders, verdicts, fills and outcomes per decision cell), ``builder`` (the table),
``attribution`` (coverage), ``writer`` (build and write the file), ``query`` (SQL with
DuckDB). Nothing is re-exported here: importing the package stays free of pyarrow.
"""
