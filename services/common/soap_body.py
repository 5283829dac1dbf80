"""A request body, checked after decoding, and handed on as the text that was checked.

Checks made on raw bytes can be bypassed by encoding (the same DTD in UTF-16 has no
`<!DOCTYPE` bytes), so the body is decoded first, the way an XML parser would decode
it (byte-order mark, then the XML declaration, then the Content-Type charset, then
UTF-8; XML 1.0 appendix F), every check runs on the text, and the parser is given that
same text re-encoded as UTF-8 without its declaration: what is parsed is what was
checked. Every request of every service passes here (SoapGuard), so a new operation
has the protection without code of its own.
"""

from __future__ import annotations

import codecs
import re

from rating.errors import BillingError


class BadBody(BillingError):
    """The body is refused before any XML parser sees it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# "<?" (or "<" and a letter) in an encoding without a byte-order mark
_SIGNATURES = [
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
]
_DECLARED = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z][\w.:-]{0,40})["']""")
_DECLARATION = re.compile(r"\A\s*<\?xml[^>]{0,300}\?>")
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
SOAP11_MEDIA_TYPE = "text/xml"


def media_type_problem(content_type: str) -> str | None:
    """Why a POST with this Content-Type is refused, or None. SOAP 1.1 is text/xml."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media != SOAP11_MEDIA_TYPE:
        return f"Content-Type must be {SOAP11_MEDIA_TYPE} (SOAP 1.1), not {media or 'missing'}"
    return None


def _encoding(body: bytes, content_type: str) -> tuple[str, int]:
    """(codec, bytes of byte-order mark to skip)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    for signature, name in _SIGNATURES:
        if body.startswith(signature):
            return name, 0
    declared = _DECLARED.match(body.lstrip()[:300])
    if declared:
        return declared.group(1).decode("ascii"), 0
    charset = _CHARSET.search(content_type)
    return (charset.group(1) if charset else "utf-8"), 0


def checked_body(body: bytes, content_type: str) -> bytes:
    """The body as UTF-8 without an XML declaration, or BadBody."""
    name, skip = _encoding(body, content_type)
    try:
        codec = codecs.lookup(name).name
        text = body[skip:].decode(codec)
    except LookupError:
        raise BadBody("XMLSyntaxError", f"unknown character encoding {name[:40]!r}") from None
    except UnicodeDecodeError as e:
        raise BadBody(
            "XMLSyntaxError", f"the body is not valid {codec} text (byte {e.start + skip})"
        ) from None
    text = _DECLARATION.sub("", text.removeprefix("\ufeff"), count=1)
    if _DTD.search(text):
        raise BadBody(
            "XMLSyntaxError", "DTDs and entity declarations are not allowed in SOAP messages"
        )
    return text.encode("utf-8")
