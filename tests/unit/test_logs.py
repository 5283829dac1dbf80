"""The redacting log filter: no password, no secret, no body, and bounded records."""

from __future__ import annotations

import io
import logging

from services.common.logs import MAX_RECORD, install, redact


def test_secrets_in_xml_and_in_pairs_are_masked() -> None:
    assert redact("<a:password>hunter2</a:password>") == "<a:password>***</a:password>"
    assert "hunter2" not in redact("login with password=hunter2 failed")
    assert "s1p" not in redact('{"sip_secret": "s1p"}')
    assert redact("a pinned note") == "a pinned note"


def test_a_quoted_body_is_not_logged_and_a_record_is_bounded() -> None:
    assert "Envelope" not in redact("bad: <soap:Envelope><x>1</x></soap:Envelope>")
    assert len(redact("z" * 10_000_000)) < MAX_RECORD + 100


def test_the_filter_rewrites_messages_and_tracebacks() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    install(handler)
    log = logging.getLogger("tests.logs")
    log.addHandler(handler)
    try:
        try:
            raise ValueError("<password>in-a-traceback</password>")
        except ValueError:
            log.exception("failed for %s", "password=topsecret")
    finally:
        log.removeHandler(handler)
    assert "topsecret" not in out.getvalue() and "in-a-traceback" not in out.getvalue()
    assert "ValueError" in out.getvalue()
