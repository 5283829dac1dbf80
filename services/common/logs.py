"""What the server may write to its log: never a password, a secret or a request body,
and never more than `MAX_RECORD` characters for one record.

The rule sits in the logging configuration, not in each module: `RedactingFilter` is
put on every handler of the root logger by `configure_logging` (what `siptar` runs at
start), so a record of any module, ours, spyne's, SQLAlchemy's or gunicorn's, passes it.
A new operation gets it without code of its own. `quiet_spyne_body_log` also mutes at
the source the one record known to carry a whole request (spyne logs a body that fails
to parse, `Auth` header included, at ERROR), wherever the app runs, tests included.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

MAX_RECORD = 4000
# spyne.protocol.soap.soap11._parse_xml_string: logger_invalid.error("%r in string %r", e, body)
SPYNE_BODY_LOGGER = "spyne.protocol.soap.soap11.invalid"
# A name holding one of these words names a secret: password, sip_secret, pin, token.
_SECRET_WORDS = r"\w*(?:password|passwd|secret|pin|token)\w*"
_REDACTIONS = [
    # <password>x</password>, <a:secret>x</a:secret>, with or without a prefix
    (
        re.compile(rf"(<(?:\w+:)?{_SECRET_WORDS}\b[^>]*>)[^<]*", re.IGNORECASE),
        r"\1***",
    ),
    # password=x, "secret": "x", secret: x
    (
        re.compile(rf"(\b{_SECRET_WORDS}['\"]?\s*[=:]\s*['\"]?)[^'\"&\s,;)}}]+", re.IGNORECASE),
        r"\1***",
    ),
    # a SOAP envelope or any XML document quoted whole
    (
        re.compile(r"<\?xml.*|<(?:\w+:)?Envelope\b.*", re.IGNORECASE | re.DOTALL),
        "<xml body not logged>",
    ),
]


def redact(text: str) -> str:
    # Cut first: a 120 MB message must cost no more than a short one.
    size = len(text)
    text = text[: MAX_RECORD + 200]
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    if len(text) > MAX_RECORD or size > MAX_RECORD + 200:
        text = text[:MAX_RECORD] + f"... [{size} characters, cut]"
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break logging
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class _DropBody(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = "a request body that is not well-formed XML (not logged)", None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_spyne_body_log() -> None:
    log = logging.getLogger(SPYNE_BODY_LOGGER)
    if not any(isinstance(f, _DropBody) for f in log.filters):
        log.addFilter(_DropBody())


def install(handler: logging.Handler) -> None:
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        install(handler)
    quiet_spyne_body_log()
    # spyne logs every Client fault with a traceback; they are the caller's business.
    logging.getLogger("spyne.application.client").setLevel(logging.CRITICAL)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
