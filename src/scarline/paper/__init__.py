"""Live paper sessions: the kernel of ``run`` on a live feed (``scarline paper``)."""
