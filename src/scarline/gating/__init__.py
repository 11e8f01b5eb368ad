"""The gates G0–G4: replay a finished run, then judge its agents as frozen policies (see
docs/gates.md). The policy ledger that promotions go through is :mod:`scarline.ledger`."""
