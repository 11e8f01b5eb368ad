"""200 malformed requests (seeded): bad JSON, wrong types, huge bodies, path traversal in
ids, unknown query parameters, negative limits. Every answer is a 4xx, never a 500."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from api_helpers import AS_OPERATOR, AS_READER, live_app, tiny_run

BAD_JSON = [b"{", b"[]", b"null", b'{"reason": }', b"\xff\xfe", b'{"reason": "x"', b"1e999", b'"x"']
WRONG_TYPES = [
    {"reason": 1},
    {"reason": None},
    {"reason": ["x"]},
    {"reason": "x" * 201},
    {"reason": "x", "source": "api"},
    {"freeze_exploration": "yes"},
    {"freeze_exploration": 1},
    {"exploration": True},
    {"reason": {"$gt": ""}},
]
IDS = ["..", "../../etc/passwd", "%2e%2e%2fetc", "a/b", "a%2Fb", "x" * 65, "a.b", "a b", "é", "%00"]
QUERIES = [
    "limit=-1",
    "limit=0",
    "limit=1001",
    "limit=abc",
    "since=-5",
    "agent=-1",
    "cursor=-1",
    "agent=1.5",
    "bogus=1",
    "run=../x",
    "run=.hidden",
    "limit=99999999999999999999999",
    "token=abc",
]
READ_PATHS = [
    "/status",
    "/agents",
    "/decisions",
    "/risk",
    "/regimes",
    "/lineage",
    "/ledger",
    "/metrics",
]


def _case(rng: random.Random) -> tuple[str, str, dict[str, str], bytes | None]:
    kind = rng.randrange(6)
    headers = dict(AS_OPERATOR if rng.random() < 0.8 else AS_READER)
    if kind == 0:
        headers["Content-Type"] = "application/json"
        return "POST", rng.choice(["/kill", "/flags"]), headers, rng.choice(BAD_JSON)
    if kind == 1:
        body = json.dumps(rng.choice(WRONG_TYPES)).encode()
        headers["Content-Type"] = "application/json"
        return "POST", rng.choice(["/kill", "/flags"]), headers, body
    if kind == 2:
        size = rng.choice([16 * 1024 + 1, 64 * 1024, 1 << 20])
        headers["Content-Type"] = "application/json"
        return (
            "POST",
            rng.choice(["/kill", "/flags", "/alerts/a/ack"]),
            headers,
            b"{" + b" " * size + b"}",
        )
    if kind == 3:
        return "POST", f"/alerts/{rng.choice(IDS)}/ack", headers, None
    if kind == 4:
        return "GET", f"{rng.choice(READ_PATHS)}?{rng.choice(QUERIES)}", headers, None
    method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    # dot segments percent-encoded: a client normalizes a bare "/decisions/.." to "/", the
    # dashboard's public page
    paths = ["/kill", "/nope", "/decisions/%2e%2e", "/status/%2e%2e%2f%2e%2e%2fetc", "/status/1"]
    return method, rng.choice(paths), headers, None


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("service-fuzz"))


def test_malformed_requests_get_4xx_never_500(run_dir: Path) -> None:
    client, view = live_app(run_dir, rate_limit_per_minute=100_000)
    rng = random.Random(17)
    seen: dict[int, int] = {}
    for n in range(200):
        method, path, headers, body = _case(rng)
        answer = client.request(method, path, headers=headers, content=body)
        assert 400 <= answer.status_code < 500, (
            n,
            method,
            path,
            body,
            answer.status_code,
            answer.text,
        )
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
    assert view.take_kill() is None and view.take_flags() == []
    assert {403, 404, 413, 422} <= set(seen)
