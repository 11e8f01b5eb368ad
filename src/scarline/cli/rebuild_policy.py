"""``scarline rebuild-policy``: a vaulted policy as two plain files (config + weights)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scarline.cli.common import console, print_json, require_run_dir
from scarline.digest import file_sha256


def rebuild_policy(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="A finished run with evolution enabled.")
    ],
    policy_hash: Annotated[
        str,
        typer.Argument(
            metavar="POLICY_HASH", help="A policy hash from the lineage (or a unique prefix, >= 8)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the files into.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the files in a non-empty --out directory.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"policy_hash", "files": {name: sha256}}.')
    ] = False,
) -> None:
    """Rebuild an agent from the run's genome vault alone: DIR/policy.json + DIR/weights.npy.

    The snapshot's sha256 and its policy hash are checked first; the files are the same bytes
    on every rebuild. Exit 2 when the run, its vault or the hash is missing (or a prefix is
    ambiguous), 1 when a snapshot was altered or --out is not empty.
    """
    require_run_dir(run_dir)
    from scarline.evolution.rebuild import open_vault, resolve_hash
    from scarline.evolution.rebuild import rebuild_policy as rebuild

    full = resolve_hash(open_vault(run_dir), policy_hash)
    paths = rebuild(run_dir, full, out, force=force)
    if as_json:
        files = {p.name: file_sha256(p) for p in paths}
        print_json({"policy_hash": full, "files": files})
        return
    for path in paths:
        console.print(str(path), soft_wrap=True, markup=False)
