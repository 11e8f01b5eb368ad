"""``scarline --version`` and ``--help`` stay light: importing the CLI and rendering every
command's help loads no heavy library (checked in a fresh interpreter, never timed)."""

from __future__ import annotations

import json
import subprocess
import sys

from scarline.cli import diary, ledger

HEAVY = (
    "torch",
    "duckdb",
    "pandas",
    "pyarrow",
    "matplotlib",
    "sklearn",
    "hmmlearn",
    "arch",
    "onnx",
    "onnxruntime",
    "scipy",
    "numpy",
    "scarline.config",
    "scarline.runner",
)

PROBE = """
import json, sys
from typer.main import get_command
import scarline.cli

root = get_command(scarline.cli.app)
paths = [[]]
for name, cmd in root.commands.items():
    paths.append([name])
    paths.extend([name, sub] for sub in getattr(cmd, "commands", {}))
codes = []
for path in paths:
    try:
        root.main([*path, "--help"], prog_name="scarline", standalone_mode=True)
    except SystemExit as stop:
        codes.append(stop.code)
sys.stdout = sys.__stdout__
print(json.dumps({"modules": sorted(sys.modules), "codes": codes, "n": len(paths)}))
"""


def _loaded(names: list[str]) -> list[str]:
    return sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in names))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = "import json, sys, scarline.cli; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert _loaded(json.loads(out)) == []


def test_every_help_page_loads_no_heavy_library() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["n"] > 20 and set(report["codes"]) == {0}
    assert _loaded(report["modules"]) == []


def test_names_spelled_in_the_cli_match_the_library() -> None:
    from scarline.diary.schema import DEFAULT_HORIZON, MAX_HORIZON
    from scarline.ledger.store import LEDGER_ENV

    assert ledger.LEDGER_ENV == LEDGER_ENV
    assert diary.DEFAULT_HORIZON == DEFAULT_HORIZON
    assert diary.MAX_HORIZON == MAX_HORIZON
