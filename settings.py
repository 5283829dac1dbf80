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
    # Credit control (services/credit/policy.py): the slice of a call's money Authorize
    # reserves and the listener extends (0: the whole call), and the shortest call the
    # credit must pay for (0: the rate's first block, at least 30 s). Per-account
    # overrides are columns of the account.
    credit_slice_seconds: int = 300
    min_call_seconds: int = 0
    # Reverse proxies (comma-separated addresses) whose X-Forwarded-For names the real
    # client: the login throttle counts per client address (docs/security.md).
    trusted_proxies: str = ""
    # The job worker (services/jobs): a job's lease lasts this long without a renewal
    # (a killed worker's jobs wait this long), and the worker checks for due jobs this often.
    job_lease_seconds: int = 120
    worker_tick_seconds: int = 5
    # Where mail goes (services/mail/smtp.py): smtp://host:25 (plain, a local relay),
    # smtp+starttls://user:password@host:587, smtps://user:password@host:465. Empty:
    # mails wait in the outbox.
    smtp_url: str = ""
    smtp_from: str = "billing@localhost"
    # A CA bundle to verify the SMTP server's certificate by (a private CA); empty:
    # the system's.
    smtp_ca_file: str = ""
    # Provisioning (ami_listener/provisioning.py): the listener reloads res_pjsip.so this
    # many seconds after provisioning data stops changing (0: never), and keeps this
    # pjsip.conf include up to date ("" : none; setting one turns the reload on, 2 s).
    reload_debounce: int = 0
    pjsip_include: str = ""
    # The key of the voucher codes' HMAC (services/vouchers/codes.py): kept out of the
    # database, so a leaked vouchers table cannot be searched for codes. Set it once;
    # changing it makes every unused voucher unknown.
    voucher_key: str = ""

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
        for name in ("credit_slice_seconds", "min_call_seconds"):
            if not 0 <= getattr(self, name) <= 86_400:
                raise ValueError(f"SIPTAR_{name.upper()}: 0 to 86400 seconds")
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
