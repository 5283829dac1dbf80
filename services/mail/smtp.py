"""An SMTP connection from SIPTAR_SMTP_URL: plain, STARTTLS or implicit TLS, with a
login when the URL has a user. The password never reaches a log line."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}
TIMEOUT_S = 30


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str  # plain, starttls, tls
    username: str
    password: str

    def __repr__(self) -> str:
        return f"SmtpTarget({self.security}://{self.username or '-'}@{self.host}:{self.port})"


def parse(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(
            "SIPTAR_SMTP_URL: smtp://host, smtp+starttls://user:password@host or smtps://..."
        )
    port, security = SCHEMES[parts.scheme]
    return SmtpTarget(
        parts.hostname,
        parts.port or port,
        security,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
    )


def connect(target: SmtpTarget, ca_file: str = "") -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=ca_file or None)
    conn: smtplib.SMTP
    if target.security == "tls":
        conn = smtplib.SMTP_SSL(target.host, target.port, timeout=TIMEOUT_S, context=context)
    else:
        conn = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_S)
        if target.security == "starttls":
            conn.starttls(context=context)
    if target.username:
        conn.login(target.username, target.password)
    return conn
