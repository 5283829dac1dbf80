"""The AMI stream as the listener reads it: bytes decoded across TCP reads, cut into
messages, and each `Event: Cdr` message's fields read straight off its text.

Why a reader of our own for the Cdr events: they are nearly all of the listener's
traffic, and panoramisk 1.4 builds a `Message` (a case-insensitive dict filled header by
header), matches it against every registered pattern and starts a task for it: ~66 us
of CPU per CDR in a profile, a seventh of the listener's. Reading the fields here cut
the listener's CPU per CDR by about a fifth (docs/ami_listener.md, "Speed"). Every
other message (the login, responses to actions, the live calls' events) still goes to
panoramisk, in the order it came, and panoramisk keeps the connection, the actions and
the reconnects.

The fields are cut as panoramisk cuts them (a message stripped, its lines split at the
first ": ", a line without one dropped), and kept as `events.cdr_from_fields` reads them:
lower-cased name -> (name as sent, value), the first of a header sent twice.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from panoramisk.ami_protocol import AMIProtocol

from ami_listener.events import Fields

SEPARATOR = "\r\n\r\n"  # between two AMI messages
_CDR_START = "Event: Cdr\r\n"  # the one spelling panoramisk's "Cdr" pattern matches


def split_messages(pending: str, text: str) -> tuple[list[str], str]:
    """The whole messages of `pending` (what the last read left) + `text`, and what is
    left after the last separator, to be completed by the next read."""
    messages = (pending + text).split(SEPARATOR)
    return messages, messages.pop()


def cdr_fields(message: str) -> Fields | None:
    """An `Event: Cdr` message's fields; None for any other message."""
    text = message.strip()
    if not text.startswith(_CDR_START):
        return None
    fields: Fields = {}
    for line in text.split("\r\n"):
        name, sep, value = line.partition(": ")
        if sep:
            fields.setdefault(name.lower(), (name, value))
    return fields


class AmiProtocol(AMIProtocol):
    """panoramisk's protocol, reading the stream itself.

    - Decoding: panoramisk 1.4 decodes every TCP read on its own with errors='ignore',
      so a UTF-8 character split across two reads vanished; here a stateful decoder
      decodes the stream.
    - Cdr events: when the manager (panoramisk's `factory`) has an `on_cdr_fields`
      callable, each Cdr message's fields go to it, in the loop, as they arrive; the
      other messages go to panoramisk as before, whole, in their order among the Cdrs.
      `on_cdr_fields` must not raise: it runs inside the TCP read.
    """

    _decoding: str | None = None
    _decoder: codecs.IncrementalDecoder
    _pending = ""

    def data_received(self, data: bytes) -> None:
        # The Manager sets `encoding` only after the banner may have arrived.
        encoding = getattr(self, "encoding", "ascii")
        if encoding != self._decoding:
            self._decoding = encoding
            self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        text = self._decoder.decode(data)
        on_cdr: Callable[[Fields], None] | None = getattr(self.factory, "on_cdr_fields", None)
        if on_cdr is None:
            super().data_received(text.encode(encoding, errors="replace"))
            return
        messages, self._pending = split_messages(self._pending, text)
        others: list[str] = []
        for message in messages:
            fields = cdr_fields(message)
            if fields is None:
                others.append(message)
                continue
            if others:
                self._to_panoramisk(others, encoding)
                others = []
            on_cdr(fields)
        if others:
            self._to_panoramisk(others, encoding)

    def _to_panoramisk(self, messages: list[str], encoding: str) -> None:
        # Whole messages, each with its separator: panoramisk's own buffer stays empty.
        text = "".join(message + SEPARATOR for message in messages)
        super().data_received(text.encode(encoding, errors="replace"))
