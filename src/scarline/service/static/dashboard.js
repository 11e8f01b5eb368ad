// scarline dashboard: reads the operations API with the token kept in this tab's
// sessionStorage, draws the equity chart as SVG and follows the session over server-sent
// events. No framework, no build step, no third-party code. Every value from the API is
// written with textContent (never innerHTML), so nothing a run contains can run as script.
"use strict";

const TOKEN_KEY = "scarline.token";
const SLOW_PANELS_MS = 5000; // risk, alerts, regimes, ledger, lineage: polled, not streamed
const CHART_MAX_POINTS = 2000; // a tab left open for weeks keeps a bounded chart (halved when full)
const PALETTE = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f",
  "#ad1457", "#4e342e", "#283593", "#558b2f", "#00695c", "#f9a825"];
const REGIME_COLORS = ["#90caf9", "#ffcc80", "#a5d6a7", "#ef9a9a", "#ce93d8", "#b0bec5"];

const state = {
  token: null, role: "read", readOnly: true, agents: [], sortKey: "equity", sortDesc: true,
  chart: { ts: [], series: [] }, source: null, timer: null, lastStep: -1, events: 0,
};

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function fmt(x, digits = 2) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (typeof x !== "number") return String(x);
  return x.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function pct(x) { return x === null || x === undefined ? "–" : `${fmt(100 * x, 2)} %`; }

function barTime(ns) { return ns ? new Date(ns / 1e6).toISOString().replace(".000Z", "Z") : "–"; }

function kindClass(kind) {
  if (kind === "buy-and-hold") return "benchmark";
  if (kind === "random-entry") return "placebo";
  return "learner";
}

// --- the API ------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) throw new Unauthorized("the token was refused");
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function fillRows(tableId, rows) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...rows.map((cells) => {
    const tr = el("tr");
    for (const cell of cells) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? "–";
      tr.append(td);
    }
    return tr;
  }));
}

// --- status, kill, positions, agents (every snapshot) ------------------------------------

function showStatus(snap) {
  state.lastStep = snap.step;
  $("status-line").textContent =
    `run ${snap.run_id} · ${snap.profile || "–"} · step ${snap.step} · bar ${barTime(snap.bar_ts)}`;
  const level = $("ladder-level");
  level.textContent = snap.ladder.level;
  level.className = `level-${snap.ladder.level}`;
  const kill = $("kill-state");
  kill.textContent = snap.killed ? `KILLED (${snap.kill_reason || "no reason"})` : "armed, not fired";
  kill.className = snap.killed ? "killed" : "";
  $("feed-state").textContent = snap.feed;
  $("policies").textContent = snap.policies.length
    ? snap.policies.map((p) => `slot ${p.slot}: ${p.policy} (${p.stage})`).join("; ") : "–";
  $("kill-button").disabled = snap.killed;
  document.body.dataset.step = String(snap.step);
  document.body.dataset.killed = String(snap.killed);
}

function showPositions(snap) {
  const rows = [];
  for (const agent of snap.agents) {
    agent.position.forEach((lots, i) => {
      if (lots !== 0) rows.push([agent.id, snap.instruments[i] ?? i, fmt(lots, 4)]);
    });
  }
  fillRows("positions-table", rows.length ? rows : [["–", "all flat", ""]]);
}

function sortedAgents() {
  const key = state.sortKey;
  const value = (a) => (key === "return" ? a.return : a[key]);
  return [...state.agents].sort((a, b) => {
    const x = value(a), y = value(b);
    const cmp = x === y ? a.id - b.id : (x === null || x === undefined) ? 1
      : (y === null || y === undefined) ? -1 : x < y ? -1 : 1;
    return state.sortDesc ? -cmp : cmp;
  });
}

function showAgents() {
  const rows = sortedAgents().map((a) => {
    const kind = kindClass(a.kind);
    const tag = el("span", kind === "learner" ? a.kind : `${a.kind} (${kind})`, `tag ${kind}`);
    return [a.id, a.policy, tag, fmt(a.equity), pct(a.return), fmt(a.sharpe),
      pct(a.max_drawdown), fmt(a.trust, 3), a.scars, a.alive ? "yes" : "dead"];
  });
  fillRows("agents-table", rows);
  $("agents-count").textContent = `(${state.agents.length})`;
  for (const th of $("agents-table").querySelectorAll("th[data-key]")) {
    th.classList.toggle("asc", th.dataset.key === state.sortKey && !state.sortDesc);
    th.classList.toggle("desc", th.dataset.key === state.sortKey && state.sortDesc);
  }
}

function onSnapshot(snap) {
  state.events += 1;
  document.body.dataset.events = String(state.events);
  showStatus(snap);
  state.agents = snap.agents;
  showAgents();
  showPositions(snap);
  extendChart(snap);
}

async function loadAgents() {
  const body = await api("/agents");
  if (state.events > 0) return; // a snapshot already arrived: it is newer
  state.agents = body.agents;
  showAgents();
  showPositions({ agents: body.agents, instruments: body.instruments });
}

// --- the equity chart -------------------------------------------------------------------

function extendChart(snap) {
  const chart = state.chart;
  if (!chart.series.length || chart.ts[chart.ts.length - 1] >= snap.bar_ts) return;
  const equity = new Map(snap.agents.map((a) => [a.id, a.equity]));
  chart.ts.push(snap.bar_ts);
  for (const s of chart.series) s.values.push(equity.has(s.id) ? equity.get(s.id) : null);
  if (chart.ts.length > CHART_MAX_POINTS) thinChart(chart);
  drawChart();
}

function thinChart(chart) {
  // every other point, the first and the latest kept, as the server thins its history: each
  // step appends one point, and an unbounded chart slows every redraw until the tab stalls
  const keep = (arr) => arr.filter((_, i) => i % 2 === 0 || i === arr.length - 1);
  chart.ts = keep(chart.ts);
  for (const s of chart.series) s.values = keep(s.values);
}

function drawChart() {
  const svg = $("equity-chart");
  const { ts, series } = state.chart;
  const W = 900, H = 300, L = 60, R = 10, T = 10, B = 22;
  const values = series.flatMap((s) => s.values.filter((v) => v !== null));
  const nodes = [];
  const ns = "http://www.w3.org/2000/svg";
  const make = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  let drawn = 0;
  if (ts.length && values.length) {
    let lo = Infinity, hi = -Infinity; // a loop: Math.min(...values) overflows the stack
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (hi === lo) { hi += 1; lo -= 1; }
    const t0 = ts[0], t1 = ts[ts.length - 1] === t0 ? t0 + 1 : ts[ts.length - 1];
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    nodes.push(make("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    nodes.push(make("text", { x: 2, y: T + 10 }, fmt(hi, 0)));
    nodes.push(make("text", { x: 2, y: H - B }, fmt(lo, 0)));
    nodes.push(make("text", { x: L, y: H - 4 }, barTime(ts[0])));
    nodes.push(make("text", { x: W - R - 150, y: H - 4 }, barTime(ts[ts.length - 1])));
    let color = 0;
    // placebos first (faint, underneath), buy-and-hold next, learners on top
    const order = { placebo: 0, benchmark: 1, learner: 2 };
    const ranked = [...series].sort((a, b) => order[kindClass(a.kind)] - order[kindClass(b.kind)]);
    for (const s of ranked) {
      const points = [];
      s.values.forEach((v, i) => { if (v !== null) points.push(`${x(ts[i]).toFixed(1)},${y(v).toFixed(1)}`); });
      if (!points.length) continue;
      const kind = kindClass(s.kind);
      const line = make("polyline", { points: points.join(" "), class: kind, "data-agent": s.id });
      if (kind === "learner") line.setAttribute("stroke", s.color || (s.color = PALETTE[color++ % PALETTE.length]));
      line.append(make("title", {}, `${s.label || s.id} (${s.kind})`));
      nodes.push(line);
      drawn += points.length;
    }
  }
  svg.replaceChildren(...nodes);
  svg.dataset.points = String(drawn);
  drawLegend(series);
}

function drawLegend(series) {
  const items = [];
  const add = (cls, label, color) => {
    const item = el("span");
    const swatch = el("span", null, `swatch ${cls}`);
    if (color) swatch.style.borderTopColor = color;
    item.append(swatch, label);
    items.push(item);
  };
  for (const s of series.filter((x) => kindClass(x.kind) === "learner")) add("learner", s.label || `agent ${s.id}`, s.color);
  if (series.some((s) => s.kind === "buy-and-hold")) add("benchmark", "buy-and-hold");
  if (series.some((s) => s.kind === "random-entry")) add("placebo", "placebos (random entry)");
  $("equity-legend").replaceChildren(...items);
}

async function loadChart() {
  const chart = await api("/equity?top=10&points=1000");
  state.chart = { ts: chart.ts, series: chart.series };
  drawChart();
}

// --- panels polled every few seconds -----------------------------------------------------

async function loadRisk() {
  const risk = await api("/risk?limit=50");
  const rows = [
    ...risk.transitions.map((t) => [t.step, t.agent < 0 ? "all" : t.agent, `${t.from} → ${t.to}`, t.cause]),
    ...risk.rejects.map((r) => [r.step, r.agent, "reject", r.reason]),
  ].sort((a, b) => b[0] - a[0]).slice(0, 30);
  fillRows("risk-table", rows.length ? rows : [["–", "", "none yet", ""]]);
}

async function loadAlerts() {
  const { alerts } = await api("/alerts");
  const rows = [...alerts].reverse().slice(0, 50).map((a) => {
    let action = a.acked ? `acked by ${a.acked_by}` : "";
    if (!a.acked && state.role === "operate" && !state.readOnly) {
      action = el("button", "Ack");
      action.className = "ack";
      action.dataset.alert = a.id;
      action.addEventListener("click", () => ack(a.id));
    }
    return [barTime(a.bar_ts), a.rule, a.severity, a.message, action];
  });
  fillRows("alerts-table", rows.length ? rows : [["–", "", "", "no alerts", ""]]);
}

async function ack(id) {
  await api(`/alerts/${encodeURIComponent(id)}/ack`, { method: "POST" });
  await loadAlerts();
}

async function loadRegimes() {
  const { changes } = await api("/regimes?limit=200");
  fillRows("regimes-table", [...changes].reverse().slice(0, 20).map((c) => [c.step, c.from, c.to, fmt(c.confidence, 3)]));
  const strip = $("regime-strip");
  const segments = changes.map((c, i) => {
    const span = el("span");
    span.style.flexGrow = String(Math.max(1, (changes[i + 1]?.step ?? state.lastStep) - c.step));
    span.style.background = REGIME_COLORS[[...String(c.to)].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 9973, 0) % REGIME_COLORS.length];
    span.title = `regime ${c.to} from step ${c.step}`;
    return span;
  });
  strip.replaceChildren(...segments);
  if (!changes.length) strip.replaceChildren(el("span", "no regime changes journaled"));
}

async function loadLedger() {
  const ledger = await api("/ledger?limit=20");
  fillRows("ledger-table", Object.entries(ledger.current).map(([stage, policy]) => [stage, policy ?? "–"]));
}

async function loadLineage() {
  const lineage = await api("/lineage?limit=50");
  const table = $("lineage-table");
  if (!lineage.available) {
    $("lineage-note").textContent = "This run does not evolve: no family tree.";
    table.querySelector("thead").replaceChildren();
    fillRows("lineage-table", []);
    return;
  }
  $("lineage-note").textContent = `${lineage.total} births; the last ${lineage.rows.length}:`;
  const columns = Object.keys(lineage.rows[0] || {}).slice(0, 8);
  const head = el("tr");
  for (const c of columns) head.append(el("th", c));
  table.querySelector("thead").replaceChildren(head);
  fillRows("lineage-table", [...lineage.rows].reverse().map((r) => columns.map((c) => r[c])));
}

async function refreshSlowPanels() {
  const results = await Promise.allSettled([loadRisk(), loadAlerts(), loadRegimes(), loadLedger(), loadLineage()]);
  const denied = results.find((r) => r.status === "rejected" && r.reason instanceof Unauthorized);
  if (denied) logout("the token was refused");
}

// --- kill ---------------------------------------------------------------------------------

async function confirmKill() {
  const reason = $("kill-reason").value.trim() || "dashboard kill";
  $("kill-confirm").hidden = true;
  try {
    const res = await api("/kill", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ reason }),
    });
    $("kill-result").textContent = `Kill accepted (key ${res.key_id}); the session halts at its next bar.`;
  } catch (err) {
    $("kill-result").textContent = `Kill refused: ${err.message}`;
  }
}

// --- start and stop ------------------------------------------------------------------------

function follow() {
  const source = new EventSource(`/events?token=${encodeURIComponent(state.token)}`);
  source.addEventListener("snapshot", (ev) => onSnapshot(JSON.parse(ev.data)));
  source.onopen = () => $("live-dot").classList.add("live");
  source.onerror = () => $("live-dot").classList.remove("live");
  state.source = source;
}

async function start() {
  try {
    const who = await api("/whoami");
    state.role = who.role;
    state.readOnly = who.read_only;
    $("login").hidden = true;
    $("board").hidden = false;
    $("logout").hidden = false;
    $("kill-panel").hidden = !(who.role === "operate" && !who.read_only);
    await loadChart().catch((err) => { $("equity-legend").textContent = `no equity yet (${err.message})`; });
    await loadAgents().catch(() => {}); // the table at once; the stream keeps it current
    follow();
    await refreshSlowPanels();
    state.timer = setInterval(refreshSlowPanels, SLOW_PANELS_MS);
  } catch (err) {
    logout(err instanceof Unauthorized ? "the token was refused" : err.message);
  }
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  if (state.source) state.source.close();
  if (state.timer) clearInterval(state.timer);
  $("board").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("status-line").textContent = "not connected";
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.token = $("token").value.trim();
    $("token").value = "";
    sessionStorage.setItem(TOKEN_KEY, state.token);
    start();
  });
  $("logout").addEventListener("click", () => logout(""));
  $("kill-button").addEventListener("click", () => { $("kill-confirm").hidden = false; });
  $("kill-cancel").addEventListener("click", () => { $("kill-confirm").hidden = true; });
  $("kill-confirm-button").addEventListener("click", confirmKill);
  for (const th of $("agents-table").querySelectorAll("th[data-key]")) {
    th.addEventListener("click", () => {
      state.sortDesc = state.sortKey === th.dataset.key ? !state.sortDesc : true;
      state.sortKey = th.dataset.key;
      showAgents();
    });
  }
  state.token = sessionStorage.getItem(TOKEN_KEY);
  if (state.token) start(); else logout("");
});
