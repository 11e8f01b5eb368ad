"""Tokens, roles and binds: env before files, key ids instead of tokens, no open bind."""

from __future__ import annotations

from pathlib import Path

import pytest

from scarline.ops_config import ServiceConfig
from scarline.service.auth import (
    OPERATE_ENV,
    READ_ENV,
    Auth,
    ServiceError,
    check_bind,
    is_loopback,
    key_id,
)


def test_roles_and_key_ids() -> None:
    auth = Auth(operate="op-secret", read="rd-secret")
    operator, reader = auth.authenticate("op-secret"), auth.authenticate("rd-secret")
    assert operator is not None and operator.can_operate and operator.key_id == key_id("op-secret")
    assert reader is not None and not reader.can_operate
    assert auth.authenticate("") is None and auth.authenticate("op-secre") is None
    assert "secret" not in str(auth.key_ids) and len(key_id("op-secret")) == 12


def test_tokens_come_from_env_then_files(tmp_path: Path) -> None:
    op_file = tmp_path / "op"
    op_file.write_text("from-file\n")
    op_file.chmod(0o600)
    cfg = ServiceConfig(token_file=str(op_file))
    assert Auth.from_config(cfg, env={}).authenticate("from-file") is not None
    env = {OPERATE_ENV: "from-env", READ_ENV: "read-env"}
    auth = Auth.from_config(cfg, env=env)
    assert auth.authenticate("from-file") is None and auth.authenticate("from-env") is not None
    with pytest.raises(ServiceError, match=r"service\.read_token_file"):
        Auth.from_config(ServiceConfig(read_token_file=str(tmp_path / "missing")), env={})
    (tmp_path / "empty").write_text(" \n")
    (tmp_path / "empty").chmod(0o600)
    with pytest.raises(ServiceError, match="empty"):
        Auth.from_config(ServiceConfig(token_file=str(tmp_path / "empty")), env={})


def test_a_non_loopback_bind_needs_a_token() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    check_bind("127.0.0.1", Auth())
    with pytest.raises(ServiceError, match=r"refusing to bind 0\.0\.0\.0"):
        check_bind("0.0.0.0", Auth())
    check_bind("0.0.0.0", Auth(read="rd"))


def _secret_file(path: Path, data: bytes, mode: int = 0o600) -> str:
    path.write_bytes(data)
    path.chmod(mode)
    return str(path)


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    for mode in (0o644, 0o640, 0o604):
        name = _secret_file(tmp_path / f"op-{mode:o}", b"op-secret\n", mode)
        with pytest.raises(ServiceError, match=rf"service\.token_file: .* {mode:04o}.*chmod 600"):
            Auth.from_config(ServiceConfig(token_file=name), env={})
    name = _secret_file(tmp_path / "ok", b"op-secret\n")
    assert Auth.from_config(ServiceConfig(token_file=name), env={}).configured


def test_a_token_file_that_is_not_text_is_a_clear_error(tmp_path: Path) -> None:
    name = _secret_file(tmp_path / "binary", b"\xff\xfe\x00token")
    with pytest.raises(ServiceError, match=r"service\.read_token_file: .* is not UTF-8"):
        Auth.from_config(ServiceConfig(read_token_file=name), env={})
    name = _secret_file(tmp_path / "latin", "caf\u00e9-token".encode())
    with pytest.raises(ServiceError, match="not printable ASCII") as refused:
        Auth.from_config(ServiceConfig(token_file=name), env={})
    assert "caf" not in str(refused.value)  # the token is never echoed


def test_env_tokens_are_trimmed_and_blank_is_unset(tmp_path: Path) -> None:
    auth = Auth.from_config(ServiceConfig(), env={OPERATE_ENV: "op-secret\n", READ_ENV: "  "})
    assert auth.authenticate("op-secret") is not None and set(auth.key_ids) == {"operate"}
    with pytest.raises(ServiceError, match=r"\$SCARLINE_API_READ_TOKEN"):
        Auth.from_config(ServiceConfig(), env={READ_ENV: "two words"})
    blank_env = Auth.from_config(ServiceConfig(), env={OPERATE_ENV: " "})
    assert not blank_env.configured
    with pytest.raises(ServiceError, match="refusing to bind"):
        check_bind("0.0.0.0", blank_env)


def test_one_token_for_both_roles_is_refused() -> None:
    with pytest.raises(ServiceError, match="the same"):
        Auth.from_config(ServiceConfig(), env={OPERATE_ENV: "same", READ_ENV: "same"})


def test_auth_keeps_only_hashes_of_the_tokens() -> None:
    import pickle

    auth = Auth(operate="op-secret-123", read="rd-secret-456")
    dumped = pickle.dumps(auth.__dict__)
    assert b"op-secret-123" not in dumped and b"rd-secret-456" not in dumped
    assert auth.authenticate("op-secret-123") is not None
    assert auth.authenticate("op-secret-12") is None and auth.authenticate("x" * 10_000) is None


def test_cors_origins_must_be_origins() -> None:
    from pydantic import ValidationError

    ok = ["https://ops.example", "http://127.0.0.1:3000", "*"]
    assert ServiceConfig(cors_origins=ok).cors_origins == ok
    for bad in ("https://ops.example/", "https://ops.example/app", "ops.example", "ftp://x"):
        with pytest.raises(ValidationError, match="is not an origin"):
            ServiceConfig(cors_origins=[bad])
