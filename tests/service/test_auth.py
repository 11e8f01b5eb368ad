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
    cfg = ServiceConfig(token_file=str(op_file))
    assert Auth.from_config(cfg, env={}).authenticate("from-file") is not None
    env = {OPERATE_ENV: "from-env", READ_ENV: "read-env"}
    auth = Auth.from_config(cfg, env=env)
    assert auth.authenticate("from-file") is None and auth.authenticate("from-env") is not None
    with pytest.raises(ServiceError, match=r"service\.read_token_file"):
        Auth.from_config(ServiceConfig(read_token_file=str(tmp_path / "missing")), env={})
    (tmp_path / "empty").write_text(" \n")
    with pytest.raises(ServiceError, match="empty"):
        Auth.from_config(ServiceConfig(token_file=str(tmp_path / "empty")), env={})


def test_a_non_loopback_bind_needs_a_token() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    check_bind("127.0.0.1", Auth())
    with pytest.raises(ServiceError, match=r"refusing to bind 0\.0\.0\.0"):
        check_bind("0.0.0.0", Auth())
    check_bind("0.0.0.0", Auth(read="rd"))
