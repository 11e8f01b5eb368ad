"""The dashboard's files and the two endpoints only it needs (``/equity``, ``/whoami``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from api_helpers import AS_OPERATOR, AS_READER, OPERATE, READ, live_app, live_snapshot, tiny_run
from fastapi.testclient import TestClient

from scarline.equity_file import read_equity
from scarline.service.app import create_app
from scarline.service.auth import Auth
from scarline.service.dashboard import DASHBOARD_PATHS
from scarline.service.metrics import ServiceMetrics
from scarline.service.source import RunsSource


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("dashboard-run"))


def test_the_page_is_public_holds_no_data_and_forbids_foreign_script(run_dir: Path) -> None:
    client, _ = live_app(run_dir)
    for path in DASHBOARD_PATHS:
        page = client.get(path)
        assert page.status_code == 200, path
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "tiny" not in page.text  # the run id: no data without a token
        assert not re.search(r"""(src|href)=["']?(https?:)?//|url\(""", page.text)  # no CDN
    html = client.get("/").text
    assert '<script src="/dashboard.js"' in html and "<script>" not in html  # none inline
    assert "sessionStorage" in client.get("/dashboard.js").text
    # the routes take no parameters: nothing a request sends picks another file
    assert client.get("/?name=../../config.py").status_code == 422


def test_whoami_names_the_role_never_the_token(run_dir: Path) -> None:
    client, _ = live_app(run_dir)
    operator = client.get("/whoami", headers=AS_OPERATOR).json()
    reader = client.get("/whoami", headers=AS_READER).json()
    assert operator["role"] == "operate" and reader["role"] == "read"
    assert OPERATE not in str(operator) and READ not in str(reader)


def test_equity_of_a_session_grows_with_each_published_step(run_dir: Path) -> None:
    client, view = live_app(run_dir)
    first = client.get("/equity", headers=AS_READER).json()
    assert len(first["ts"]) == 1
    snap = live_snapshot(run_dir)
    view.publish(live_snapshot(run_dir, step=snap.step + 1, bar_ts=snap.bar_ts + 60 * 10**9))
    body = client.get("/equity", headers=AS_READER).json()
    assert len(body["ts"]) == 2 and body["agents_total"] == 4
    kinds = sorted(s["kind"] for s in body["series"])
    assert kinds == ["buy-and-hold", "q-network", "q-network", "q-network"]
    assert all(len(s["values"]) == 2 for s in body["series"])


def test_equity_of_a_finished_run_is_its_equity_file_thinned(run_dir: Path) -> None:
    app = create_app(
        RunsSource(run_dir.parent, run_dir.parent / "no-ledger"),
        Auth(operate=OPERATE, read=READ),
        ServiceMetrics(),
        read_only=True,
    )
    client = TestClient(app)
    ts, curves = read_equity(run_dir / "equity.parquet")
    body = client.get("/equity?points=50&top=1", headers=AS_READER).json()
    assert len(body["ts"]) == 50 and body["ts"][0] == ts[0] and body["ts"][-1] == ts[-1]
    drawn = {s["id"]: s for s in body["series"]}
    best = max(
        (a for a in curves if drawn.get(a, {}).get("kind") != "buy-and-hold"),
        key=lambda a: curves[a][-1],
        default=None,
    )
    assert best is not None and set(drawn) == {best, 3}  # the top learner and buy-and-hold
    assert drawn[best]["values"][-1] == pytest.approx(float(curves[best][-1]))
    assert np.isfinite(drawn[3]["values"]).all()
