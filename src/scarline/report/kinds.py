"""The agent kinds every view of a run sets apart: the learners, the random-entry placebos
and the buy-and-hold benchmark (the report, the tearsheet, the dashboard, ``Result.plot``).
No imports, so the service can read them without the plotting stack."""

LEARNER, PLACEBO, BENCHMARK = "q-network", "random-entry", "buy-and-hold"
