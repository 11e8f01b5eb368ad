"""Compare two `bench/all.py` summaries: every numeric figure, its change, and the ones that
got worse by more than the tolerance.

    python bench/compare.py BASELINE.json CURRENT.json [--tolerance 10] [--json]

Which way is better is read from the figure's name: throughputs and multiples (``per_s``,
``speedup``, ``_vs_``, ``ratio``, ``rate``) should rise; times, latencies and sizes (``_s``,
``_ms``, ``seconds``, ``latency``, ``p50``/``p99``, ``rss``, ``mb``, ``bytes``) should fall;
anything else is shown without a verdict. Exit 1 when a figure regressed beyond
``--tolerance`` percent, so CI or a reviewer sees a slowdown.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from scarline.argtypes import non_negative_float

WORSE_UP = ("drop", "growth", "violations")  # a drop in rate, a growth in memory, an error
HIGHER = ("per_s", "speedup", "ratio", "rate", "throughput", "_vs_")
LOWER = ("_s", "_ms", "seconds", "latency", "p50", "p99", "rss", "_mb", "bytes", "_gib")
MACHINE = "machine."  # what the machine did (bench/machine.py): shown, never a regression
SKIP = ("wall_s", "repeat", "bars", "agents", "steps", "sizes", "seed", "count")


def direction(path: str) -> int:
    """+1: higher is better; -1: lower is better; 0: no verdict (the machine's own figures)."""
    if path.startswith(MACHINE):
        return 0
    leaf = path.rsplit(".", 1)[-1].lower()
    if any(part in leaf for part in WORSE_UP):  # before HIGHER: a rate's drop is a cost
        return -1
    if any(part in leaf for part in HIGHER):
        return 1
    if any(leaf.endswith(part) or part in leaf for part in LOWER):
        return -1
    return 0


def figures(node: Any, prefix: str = "") -> dict[str, float]:
    """Every numeric leaf of a summary's ``benches``, by dotted path."""
    out: dict[str, float] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            out |= figures(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out |= figures(value, f"{prefix}[{i}]")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        out[prefix] = float(node)
    return out


def _is_setting(leaf: str) -> bool:
    """A size the benchmark was run at (``bars_single``, ``agents_rules``), not a figure."""
    if direction(leaf) == 1:
        return False
    return any(leaf == s or leaf.startswith(s + "_") for s in SKIP)


def compare(base: dict[str, Any], current: dict[str, Any], tolerance: float) -> list[dict]:
    a, b = figures(base.get("benches", {})), figures(current.get("benches", {}))
    rows = []
    for path in sorted(a.keys() & b.keys()):
        leaf = path.rsplit(".", 1)[-1]
        if _is_setting(leaf):
            continue
        old, new = a[path], b[path]
        change = (new - old) / abs(old) * 100.0 if old else 0.0
        sense = direction(path)
        worse = sense != 0 and change * sense < -tolerance
        rows.append(
            {
                "figure": path,
                "baseline": old,
                "current": new,
                "change_pct": change,
                "better": {1: "higher", -1: "lower", 0: "—"}[sense],
                "regressed": worse,
            }
        )
    return rows


def load_summary(path: Path) -> dict[str, Any]:
    """A ``bench/all.py`` summary from ``path``; ``ValueError`` naming the file and what is
    wrong when it is not one (not JSON, not an object, no ``benches`` object)."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err})") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("benches"), dict):
        raise ValueError(f"{path}: not a bench/all.py summary (no 'benches' object)")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("baseline", type=Path)
    ap.add_argument("current", type=Path)
    ap.add_argument(
        "--tolerance", type=non_negative_float, default=10.0, help="percent worse allowed"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        base, current = load_summary(args.baseline), load_summary(args.current)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = compare(base, current, args.tolerance)
    regressed = [r for r in rows if r["regressed"]]
    if args.json:
        print(json.dumps({"rows": rows, "regressed": len(regressed)}, indent=2))
    else:
        print(f"baseline {base.get('commit', '?')} → current {current.get('commit', '?')}")
        width = max((len(r["figure"]) for r in rows), default=10)
        for r in rows:
            mark = "  REGRESSED" if r["regressed"] else ""
            print(f"{r['figure']:<{width}}  {r['baseline']:>14,.4g}  {r['current']:>14,.4g}  "
                  f"{r['change_pct']:+7.1f} %  ({r['better']} is better){mark}")  # fmt: skip
        print(f"{len(regressed)} figure(s) worse by more than {args.tolerance:g} %")
    return 1 if regressed else 0


if __name__ == "__main__":
    raise SystemExit(main())
