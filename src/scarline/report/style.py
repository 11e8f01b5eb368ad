"""The stylesheet every page of the report shares (report.html, lineage.html), inlined into
each page so a run directory stays self-contained."""

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; text-align: left; }
th { background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.baseline td { background: #fff8e1; } td.zero { color: #bbb; }
table.meta th { font-weight: normal; color: #555; background: none; }
.note, .generated { color: #666; font-size: 0.85em; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
code { background: #f4f4f4; padding: 0 0.2em; }
table.agents, table.fit { display: block; max-width: 100%; overflow-x: auto; }
td.agent { max-width: 22em; white-space: normal; overflow-wrap: anywhere; }
tr.benchmark td { background: #eceff1; font-weight: 600; }
tr.placebo td { color: #78909c; }
tr.learner td.agent, tr.rule td.agent { font-weight: 600; }
td.pos { color: #2e7d32; } td.neg { color: #c62828; }
tr.trade.open td { font-style: italic; }
.plotly-graph-div { margin: 1em 0; }
"""
