"""Config of the operations service, ``[service]``: where the API listens and who may call it.

A low-level module on purpose (it imports nothing above :mod:`scarline.strict`): the run
config holds it, and the service and the CLI read it without pulling the kernel in.
Tokens never live in the config itself, only the names of files holding them, so a config
snapshot written into a run directory never carries a secret.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from scarline.strict import Strict


class ServiceConfig(Strict):
    """The REST API, metrics and live events of a session (`scarline serve`, `paper`)."""

    enabled: bool = Field(
        default=False,
        description="serve the API inside `scarline paper` (`scarline serve` always does)",
    )
    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="bind address; a non-loopback host is refused unless a token is configured",
    )
    port: int = Field(default=8765, ge=0, le=65535, description="TCP port (0: any free port)")
    token_file: str | None = Field(
        default=None,
        description="file holding the operate token (else $SCARLINE_API_TOKEN)",
    )
    read_token_file: str | None = Field(
        default=None,
        description="file holding the read-only token (else $SCARLINE_API_READ_TOKEN)",
    )
    cors_origins: list[str] = Field(
        default=[], description="origins allowed by CORS (empty: CORS off)"
    )
    rate_limit_per_minute: int = Field(
        default=60, ge=1, le=100_000, description="acting requests per minute per key"
    )
    top_k: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="agents with their own metric series (the top by equity; the rest in `total`)",
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        """Each an origin as a browser sends it, ``scheme://host[:port]`` (or ``*``): with a
        path or a trailing slash it would never match, and CORS would silently stay off."""
        for origin in origins:
            if origin == "*":
                continue
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{origin!r} is not an origin: use scheme://host[:port]")
            if origin != f"{parts.scheme}://{parts.netloc}" or "@" in parts.netloc:
                raise ValueError(
                    f"{origin!r} is not an origin: no path, trailing slash, query or user "
                    f"(use {parts.scheme}://{parts.netloc.rpartition('@')[2]})"
                )
        return origins
