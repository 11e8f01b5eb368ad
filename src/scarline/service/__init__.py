"""The operations service: a REST API, Prometheus metrics and live events over a running
session or finished runs.

Import the modules themselves: :mod:`.view` (what a session publishes, no web stack),
:mod:`.app` (``create_app``), :mod:`.server` (uvicorn in a thread). This package root imports
nothing, so a session that only builds snapshots never loads FastAPI.
"""
