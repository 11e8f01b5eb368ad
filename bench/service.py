"""The operations API under load while a paper session runs.

    python bench/service.py [--json] [--bars 3000] [--rate 200]

A paper session replays a recorded feed (one-minute BTC/USDT bars, as fast as it can: the
replay feed at speed "max") with `[service] enabled`; a client on loopback sends ``--rate``
requests a second, round robin over ``/status``, ``/agents``, ``/metrics`` and ``/healthz``,
for as long as the session runs. Reported: the API's p50/p99 latency and the rate it kept,
and the session's step rate with and without the load (how much serving costs trading).
Everything is one process on loopback, bounded by the session's length.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from output import logs_to_stderr  # noqa: E402
from paper_recording import write_paper_config  # noqa: E402

from scarline.argtypes import positive_float, positive_int  # noqa: E402
from scarline.config import load_config  # noqa: E402
from scarline.paper.session import PaperOptions, PaperSession  # noqa: E402

TOKEN = "bench-read-token"
PATHS = ("/status", "/agents", "/metrics", "/healthz")


def session_rate(tmp: Path, bars: int, rate: float | None) -> dict[str, float]:
    """Steps/s of one session (and, with ``rate``, the API's latencies under that load)."""
    tmp.mkdir(parents=True, exist_ok=True)
    config = load_config(write_paper_config(tmp, bars=bars))
    if rate is not None:
        config = config.with_overrides(**{"service.enabled": True, "service.port": 0})
    latencies: list[float] = []
    stop = threading.Event()
    session: PaperSession

    def load() -> None:
        assert session.ops is not None
        headers = {"Authorization": f"Bearer {TOKEN}"}
        interval = 1.0 / float(rate or 1)
        with httpx.Client(base_url=session.ops.url, timeout=5.0) as client:
            k, next_at = 0, time.perf_counter()
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    client.get(PATHS[k % len(PATHS)], headers=headers)
                except httpx.TransportError:  # the session closed and took the server along
                    return
                latencies.append(time.perf_counter() - start)
                k += 1
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))

    loader: threading.Thread | None = None

    def on_step(t: int) -> None:
        nonlocal loader
        if rate is not None and loader is None:
            loader = threading.Thread(target=load, daemon=True)
            loader.start()

    run_id = "loaded" if rate is not None else "quiet"
    session = PaperSession(
        config, PaperOptions(out_dir=tmp / "runs", run_id=run_id, on_step=on_step)
    )
    start = time.perf_counter()
    summary = session.run_session()
    seconds = time.perf_counter() - start
    stop.set()
    if loader is not None:
        loader.join(timeout=10)
    out = {"steps": summary.steps, "seconds": seconds, "steps_per_s": summary.steps / seconds}
    if latencies:
        ms = np.asarray(latencies) * 1e3
        out |= {
            "requests": len(ms),
            "requests_per_s": len(ms) / seconds,
            "api_ms_p50": float(np.percentile(ms, 50)),
            "api_ms_p99": float(np.percentile(ms, 99)),
        }
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=positive_int, default=3000)
    parser.add_argument("--rate", type=positive_float, default=200.0, help="requests per second")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    logs_to_stderr()
    os.environ["SCARLINE_API_READ_TOKEN"] = TOKEN
    os.environ.setdefault("SCARLINE_API_TOKEN", "bench-operate-token")
    with tempfile.TemporaryDirectory(prefix="scarline-bench-service-") as tmp:
        quiet = session_rate(Path(tmp) / "quiet", args.bars, None)
        loaded = session_rate(Path(tmp) / "loaded", args.bars, args.rate)
    result = {
        "bars": args.bars,
        "target_rate": args.rate,
        "steps_per_s_quiet": round(quiet["steps_per_s"], 1),
        "steps_per_s_loaded": round(loaded["steps_per_s"], 1),
        "step_rate_drop": round(1 - loaded["steps_per_s"] / quiet["steps_per_s"], 3),
        "requests": int(loaded.get("requests", 0)),
        "requests_per_s": round(loaded.get("requests_per_s", 0.0), 1),
        # none when no request completed before the session ended (too few --bars)
        "api_ms_p50": _ms(loaded.get("api_ms_p50")),
        "api_ms_p99": _ms(loaded.get("api_ms_p99")),
    }
    if args.json:
        print(json.dumps(result))
        return
    print("operations API under load while a paper session runs (loopback, one process)")
    for key, value in result.items():
        print(f"  {key:<20} {'no request completed' if value is None else value}")


if __name__ == "__main__":
    main()
