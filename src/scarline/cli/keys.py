"""``scarline keys init|list|export``: the user's Ed25519 keys, which sign runs, gate reports,
approvals and the ledger (``docs/security.md``). A private key is never printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from scarline.cli.common import console, print_json
from scarline.cli.help import command, group

KEYS_ENV = "SCARLINE_KEYS_DIR"
"""= ``scarline.signing.KEYS_ENV`` (a test keeps them equal)."""

app = group("Your signing keys: create, list and export them (the private key never leaves).")

KeysDir = Annotated[
    Path | None,
    typer.Option(
        "--keys-dir",
        envvar=KEYS_ENV,
        help=f"Key store directory (default: ~/.config/scarline/keys, or ${KEYS_ENV}).",
        show_default=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@command(app, "init")
def init(
    name: Annotated[str, typer.Option("--name", help="Key name.")] = "default",
    keys_dir: KeysDir = None,
    as_json: AsJson = False,
) -> None:
    """Create a key: the private key (mode 0600) and its public key in the key store.

    The key named default (or $SCARLINE_KEY) signs runs when they close, gate reports, and
    your ledger writes and approvals. Nothing creates a key for you.
    """
    from scarline.signing import KeyStore

    info = KeyStore(keys_dir).init(name)
    if as_json:
        print_json(info)
        return
    console.print(
        f"created key {escape(info.name)} (id {info.key_id}) in {escape(info.path)}\n"
        f"public key: {info.public_key}",
        soft_wrap=True,
    )


@command(app, "list")
def list_keys(keys_dir: KeysDir = None, as_json: AsJson = False) -> None:
    """The keys in the key store: name, id and public key."""
    from scarline.signing import KeyStore

    store = KeyStore(keys_dir)
    keys = store.list()
    if as_json:
        print_json({"keys_dir": str(store.dir), "keys": keys})
        return
    if not keys:
        console.print(f"no keys in {escape(str(store.dir))} (`scarline keys init`)")
        return
    for info in keys:
        console.print(f"{escape(info.name)}  {info.key_id}  {info.public_key}", soft_wrap=True)


@command(app, "export")
def export(
    name: Annotated[str, typer.Argument(help="Key name.")] = "default",
    keys_dir: KeysDir = None,
    as_json: AsJson = False,
) -> None:
    """Print a key's public key (ed25519:BASE64), e.g. for a ledger's policy.toml."""
    from scarline.signing import KeyStore

    public = KeyStore(keys_dir).public(name)
    if as_json:
        print_json({"name": name, "key_id": public.key_id, "public_key": public.text})
        return
    console.print(public.text, soft_wrap=True, markup=False)
