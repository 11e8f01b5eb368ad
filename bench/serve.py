"""``scarline serve`` over a runs directory with many runs and a long WAL: request latency.

    python bench/serve.py [--json] [--runs 50] [--records 200000] [--requests 400]

Builds a runs directory of ``--runs`` small finished runs (copies of one synthetic run,
their files aged an hour, as a directory of past runs is) and one paper-like run, the
newest, whose WAL holds ``--records`` records (a bar, a decision and a risk verdict per
step, a regime change and a ladder move now and then). Serves it on loopback (uvicorn, as
``scarline serve`` does) and sends ``--requests`` requests one after another, round robin
over what a dashboard polls and an API client asks (``/runs``, ``/status``, ``/agents``,
``/risk``, ``/regimes``, ``/metrics``, a ``/decisions`` page near the end, ``/status`` of
one of the small runs). Twice: with the runs left alone (``static``), and while a writer
appends a step's records to the long run's WAL every 20 ms (``live``, the 24/7 session).
Reported per endpoint: the first request's latency (the cold read), then p50/p99 in ms over
``--requests`` more, and p50/p99 over all of them.

The same script runs against any commit (the API it uses is older than the cache): run it
on two checkouts to compare, e.g. ``PYTHONPATH=<other checkout>/src python bench/serve.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "service"))

from wal_helpers import age, decision, ladder, refusal, regime  # noqa: E402

from scarline.argtypes import positive_int  # noqa: E402
from scarline.events import Bar, Event  # noqa: E402
from scarline.journal import WalWriter  # noqa: E402

READ = "bench-read-token"
LONG = "long"


def _step(run_id: str, step: int) -> list[Event]:
    bar = Bar(
        run_id=run_id,
        session_id="s0",
        instrument=0,
        open=10_000 + step,
        high=10_100 + step,
        low=9_900 + step,
        close=10_050 + step,
        volume=step,
    )
    out: list[Event] = [bar, decision(run_id, step, agents=4), refusal(run_id, step)]
    if step % 500 == 0:
        out.append(regime(run_id, step, to=f"r{step // 500 % 5}"))
    if step % 1000 == 0:
        out.append(ladder(run_id, step, step // 1000 % 4))
    return out


def long_run(root: Path, records: int) -> int:
    """The long run's WAL (and the few files a paper session leaves); returns its steps."""
    run = root / LONG
    (run / "session.json").parent.mkdir(parents=True)
    (run / "session.json").write_text(json.dumps({"profile": "paper", "frequency": "1min"}))
    summary = {"run_id": LONG, "agents": [{"id": k, "final_equity": 1e6 + k} for k in range(4)]}
    (run / "summary.json").write_text(json.dumps(summary))
    step = written = 0
    with WalWriter(run / "wal", LONG, fsync="never") as wal:
        while written < records:
            for event in _step(LONG, step):
                wal.append(event, 60_000_000_000 * step)
                written += 1
            step += 1
    return step


def small_runs(root: Path, n: int) -> None:
    """``n`` finished runs: copies of one short synthetic backtest."""
    from scarline.config import RunConfig
    from scarline.market.io import write_market
    from scarline.market.synthetic import SynthSpec, generate
    from scarline.runner import execute_run

    data = write_market(generate(SynthSpec(n_steps=300, seed=5)), root.parent / "synth.csv")
    cfg = RunConfig(
        seed=5, data={"source": str(data)}, report=False, agents=[{"kind": "buy-and-hold"}]
    )
    first = execute_run(cfg, run_id="run000", out_dir=root).run_dir
    for k in range(1, n):
        shutil.copytree(first, root / f"run{k:03d}")


def _paths(steps: int, runs: int) -> list[str]:
    return [
        "/runs",
        "/status",
        "/agents",
        "/risk?limit=50",
        "/regimes?limit=200",
        "/metrics",
        f"/decisions?since={max(steps - 50, 0)}&limit=20",
        f"/status?run=run{min(7, runs - 1):03d}",
    ]


def measure(url: str, paths: list[str], requests: int) -> dict[str, Any]:
    """One request to each of ``paths`` (``first_ms``: what a change or a cold server costs),
    then latencies (ms) of ``requests`` sequential requests, round robin over them."""
    headers = {"Authorization": f"Bearer {READ}"}
    with httpx.Client(base_url=url, timeout=300.0, headers=headers) as client:

        def timed(path: str) -> float:
            start = time.perf_counter()
            answer = client.get(path)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
            return (time.perf_counter() - start) * 1e3

        first = {p: round(timed(p), 1) for p in paths}
        by_path: dict[str, list[float]] = {p: [] for p in paths}
        for k in range(requests):
            path = paths[k % len(paths)]
            by_path[path].append(timed(path))
    every = np.concatenate([np.asarray(v) for v in by_path.values()])
    return {
        "requests": len(every),
        "ms_p50": round(float(np.percentile(every, 50)), 2),
        "ms_p99": round(float(np.percentile(every, 99)), 2),
        "first_ms": first,
        "by_path_ms_p50": {p: round(float(np.percentile(v, 50)), 2) for p, v in by_path.items()},
        "by_path_ms_p99": {p: round(float(np.percentile(v, 99)), 2) for p, v in by_path.items()},
    }


def serve(root: Path) -> Any:
    from scarline.service.app import create_app
    from scarline.service.auth import Auth
    from scarline.service.metrics import ServiceMetrics
    from scarline.service.server import Server
    from scarline.service.source import RunsSource

    auth = Auth(operate="bench-operate-token", read=READ)
    app = create_app(RunsSource(root, root / "no-ledger"), auth, ServiceMetrics(), read_only=True)
    server = Server(app, auth, host="127.0.0.1", port=0)
    server.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive_int, default=50)
    parser.add_argument("--records", type=positive_int, default=200_000)
    parser.add_argument("--requests", type=positive_int, default=400)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    # one log line a request would be most of what is timed (and of the output)
    structlog.configure(  # warnings to stderr: stdout is the one JSON object
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    with tempfile.TemporaryDirectory(prefix="scarline-bench-serve-") as tmp:
        root = Path(tmp) / "runs"
        root.mkdir()
        small_runs(root, args.runs)
        start = time.perf_counter()
        steps = long_run(root, args.records)
        build_s = time.perf_counter() - start
        age(root)
        now = time.time_ns()  # the long run is the newest
        os.utime(root / LONG, ns=(now - 10**9, now - 10**9))
        server = serve(root)
        try:
            static = measure(server.url, _paths(steps, args.runs), args.requests)
            stop, ready = threading.Event(), threading.Event()

            def write() -> None:
                step = steps
                with WalWriter(root / LONG / "wal", LONG, fsync="never") as wal:
                    ready.set()  # opening checked the whole WAL: not part of what is timed
                    while not stop.is_set():
                        for event in _step(LONG, step):
                            wal.append(event, 60_000_000_000 * step)
                        wal.flush()
                        step += 1
                        time.sleep(0.02)

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            ready.wait()
            try:
                live = measure(server.url, _paths(steps, args.runs), args.requests)
            finally:
                stop.set()
                writer.join(timeout=10)
        finally:
            server.stop()
    result = {
        "runs": args.runs + 1,
        "wal_records": args.records,
        "wal_build_s": round(build_s, 1),
        "static": static,
        "live": live,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"scarline serve: {args.runs + 1} runs, one WAL of {args.records:,} records (loopback)")
    for name in ("static", "live"):
        r = result[name]
        assert isinstance(r, dict)
        print(f"  {name:<6} p50 {r['ms_p50']} ms, p99 {r['ms_p99']} ms over {r['requests']}")
        for path in r["by_path_ms_p50"]:
            print(
                f"    {path:<34} first {r['first_ms'][path]:>8} ms, then p50 "
                f"{r['by_path_ms_p50'][path]:>8} ms  p99 {r['by_path_ms_p99'][path]:>8} ms"
            )


if __name__ == "__main__":
    main()
