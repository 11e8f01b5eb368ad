"""scarline: self-evolving, governed, auditable trading agents."""

__version__ = "0.1.0"
