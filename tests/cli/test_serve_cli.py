"""``scarline serve``: starts over a runs directory and answers, refuses an open bind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scarline.cli import app
from scarline.service.auth import OPERATE_ENV, READ_ENV

runner = CliRunner()


def test_once_answers_healthz_and_names_keys_by_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(READ_ENV, "read-secret-token")
    result = runner.invoke(app, ["serve", "--runs", str(tmp_path), "--once", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["healthz"] == {"status": 200, "body": {"status": "ok", "mode": "runs"}}
    assert doc["url"].startswith("http://127.0.0.1:") and doc["read_only"] is True
    assert "read-secret-token" not in result.output and list(doc["keys"]) == ["read"]


def test_a_non_loopback_bind_without_a_token_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(OPERATE_ENV, raising=False)
    monkeypatch.delenv(READ_ENV, raising=False)
    result = runner.invoke(app, ["serve", "--runs", str(tmp_path), "--host", "0.0.0.0", "--once"])
    assert result.exit_code == 2
    assert "refusing to bind 0.0.0.0" in result.output


def test_a_taken_port_is_a_clear_error_before_serving_is_claimed(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for once in ([], ["--once"]):
            result = runner.invoke(app, ["serve", "--runs", str(tmp_path), "--port", port, *once])
            assert result.exit_code == 2, result.output
            assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.output
            assert "serving" not in result.output


def test_an_unknown_host_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(READ_ENV, "read-secret-token")
    result = runner.invoke(app, ["serve", "--runs", str(tmp_path), "--host", "no such host"])
    assert result.exit_code == 2, result.output
    assert "cannot listen on no such host:8765" in result.output
