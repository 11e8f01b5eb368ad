"""Island runners: several arenas evolving side by side, exchanging their best agents.

``scarline evolve`` (see docs/evolution.md, "Islands") runs one arena per island, each in
its own run directory, in lockstep segments between ring migrations; executors run the
islands inside this process (default) or as Ray actors.
"""
