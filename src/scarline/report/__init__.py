"""The run report: per-agent metrics, PNG plots, ``report.html`` and the terminal table.

``results`` (the input, ``RunResults``) → ``metrics`` (pure array functions) →
``plots`` / ``html`` (``write_report``) and ``terminal`` (``headline_table``).
See ``docs/report.md``.
"""
