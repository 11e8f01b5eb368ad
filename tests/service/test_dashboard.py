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
    assert client.get("/?name=../../config.py").content == client.get("/").content


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


CHART_HARNESS = r"""
// dashboard.js with a stub DOM: a chart that already holds 2,000 steps of 65 curves (the
// size a tab reaches after a week of minute bars) takes three more live snapshots
const fs = require("fs"), vm = require("vm");
const stub = () => new Proxy({ dataset: {}, style: {} }, {
  get: (t, k) => (k in t ? t[k] : () => stub()),
  set: (t, k, v) => { t[k] = v; return true; },
});
const document = { addEventListener() {}, getElementById: stub, createElement: stub,
  createElementNS: stub };
const ctx = vm.createContext({ document, sessionStorage: { getItem: () => null } });
const source = fs.readFileSync(process.argv[2], "utf8");
vm.runInContext(source + ";globalThis.t = { state, extendChart };", ctx);
const { state, extendChart } = ctx.t;
const n = 2000, curves = 65;
state.chart = { ts: Array.from({ length: n }, (_, i) => i), series: Array.from({ length: curves },
  (_, c) => ({ id: c, kind: "q-network", values: Array.from({ length: n }, (_, i) => c + i) })) };
let error = null;
for (let t = n; t < n + 3; t++) {
  const agents = Array.from({ length: curves }, (_, c) => ({ id: c, equity: c + t }));
  try { extendChart({ bar_ts: t, agents }); } catch (e) { error = `${e.name}: ${e.message}`; }
}
const { ts, series } = state.chart;
console.log(JSON.stringify({ error, points: ts.length, first: ts[0], last: ts[ts.length - 1],
  aligned: series.every((s) => s.values.length === ts.length) }));
"""


def test_the_live_chart_stays_bounded_on_a_long_session(tmp_path: Path) -> None:
    """Each snapshot adds a point: unbounded, a week of minute bars overflowed the stack
    (``Math.min(...values)``) and froze the chart, and every redraw grew slower."""
    import json
    import shutil
    import subprocess
    from importlib import resources

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH: the dashboard's chart code cannot run outside a browser")
    script = resources.files("scarline.service").joinpath("static", "dashboard.js")
    harness = tmp_path / "harness.js"
    harness.write_text(CHART_HARNESS)
    done = subprocess.run(
        [node, str(harness), str(script)], capture_output=True, text=True, timeout=30, check=True
    )
    result = json.loads(done.stdout)
    assert result["error"] is None
    assert result["points"] <= 2000 and result["aligned"]
    assert (result["first"], result["last"]) == (0, 2002)  # the span is kept, the latest shown


def test_the_page_opens_from_a_link_with_a_query(tmp_path: Path) -> None:
    client = TestClient(
        create_app(
            RunsSource(tmp_path, tmp_path / "no-ledger"),
            Auth(operate=OPERATE, read=READ),
            ServiceMetrics(),
            read_only=True,
        )
    )
    for path in DASHBOARD_PATHS:
        page = client.get(f"{path}?utm_source=chat&v=2")
        assert page.status_code == 200 and page.headers["content-security-policy"], path
    assert client.get("/status?limt=5", headers=AS_READER).status_code == 422  # still strict
