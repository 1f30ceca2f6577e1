"""Service configuration: one frozen object built from environment variables.

Read once at start-up and validated there, so that a typo in a deployment
fails loudly before the first patient is seen instead of silently running on
a default. The service starts with no variables at all on development
defaults; ``insecure_defaults`` says which of them must not reach production.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping

ENVIRONMENTS = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}
_PROTOCOL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DEFAULT_PROTOCOL = "astct-generic"
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_ENV = "development"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    protocol_id: str = DEFAULT_PROTOCOL
    eligibility: bool = True  # assess only patients with an index therapy in the eligibility window
    log_level: str = DEFAULT_LOG_LEVEL
    env: str = DEFAULT_ENV

    @property
    def development(self) -> bool:
        return self.env == "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from ``CRS_CDS_*`` variables (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        return cls(
            protocol_id=_protocol(env.get("CRS_CDS_PROTOCOL")),
            eligibility=_switch("CRS_CDS_ELIGIBILITY", env.get("CRS_CDS_ELIGIBILITY"), default=True),
            log_level=_log_level(env.get("CRS_CDS_LOG_LEVEL")),
            env=_environment(env.get("CRS_CDS_ENV")),
        )

    def insecure_defaults(self) -> list[str]:
        """What this configuration allows that production must not (logged at start-up)."""
        if not self.development:
            return []
        return ['CRS_CDS_ENV=development: requests may pin the grading time with extension["crs-cds.now"]']


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _protocol(value: str | None) -> str:
    if _blank(value):
        return DEFAULT_PROTOCOL
    value = value.strip()
    if not _PROTOCOL_ID.match(value):
        raise ConfigError(f"CRS_CDS_PROTOCOL={value!r} is not a protocol id "
                          "(lower-case letters, digits, '.', '_' or '-', e.g. 'astct-generic')")
    return value


def _switch(name: str, value: str | None, *, default: bool) -> bool:
    if _blank(value):
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} must be 'on' or 'off'")


def _log_level(value: str | None) -> str:
    if _blank(value):
        return DEFAULT_LOG_LEVEL
    level = value.strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(f"CRS_CDS_LOG_LEVEL={value!r} must be one of {', '.join(LOG_LEVELS)}")
    return level


def _environment(value: str | None) -> str:
    if _blank(value):
        return DEFAULT_ENV
    env = value.strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CRS_CDS_ENV={value!r} must be one of {', '.join(ENVIRONMENTS)}")
    return env
