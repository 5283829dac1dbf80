"""Settings from the environment, read once by the entrypoints and passed down.

Every setting is an environment variable `SIPTAR_<NAME>`; the CLI flags of the same
name override it. rating/ and client/ never read the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///siptar.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # The address clients reach the services at; it goes into the WSDLs. Empty: derived
    # from `siptar serve --bind`.
    public_url: str = ""
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "billing"
    ami_secret: str = ""
    asterisk_tz: str = "UTC"
    # Where `siptar agi` (FastAGI authorize) listens: HOST:PORT.
    agi_bind: str = "127.0.0.1:4573"
    # Where the AMI listener spills CDRs while the database is down (ami_listener/spool.py).
    spool_dir: str = "var/spool"
    # Provisioning (ami_listener/provisioning.py): the listener reloads res_pjsip.so this
    # many seconds after provisioning data stops changing (0: never), and keeps this
    # pjsip.conf include up to date ("" : none; setting one turns the reload on, 2 s).
    reload_debounce: int = 0
    pjsip_include: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"SIPTAR_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = int(raw) if f.type == "int" else raw
        return cls(**values).validated()

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None}).validated()

    def validated(self) -> Settings:
        try:
            ZoneInfo(self.asterisk_tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"SIPTAR_ASTERISK_TZ: unknown time zone {self.asterisk_tz!r}"
            ) from None
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.asterisk_tz)
