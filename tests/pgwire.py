"""A TCP proxy in front of PostgreSQL that records every query the clients send.

psycopg2 speaks PostgreSQL's simple query protocol: every `Query` message ('Q') it sends
is one round trip, including the `BEGIN` it sends on its own, which no SQLAlchemy or
psycopg2 hook sees. Reading the wire counts them all.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType

from sqlalchemy.engine import make_url

# SSLRequest and GSSENCRequest: untyped messages a startup message may follow.
_REQUESTS = (80877103, 80877104)


class QueryRecorder:
    """`with QueryRecorder(url) as rec:` proxies `url`'s server on a port of its own;
    `rec.url` goes through it (without SSL, so the messages can be read), and
    `rec.queries` holds the text of every Query message, in order."""

    def __init__(self, url: str) -> None:
        self._target = make_url(url)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        self.url = (
            self._target.set(host="127.0.0.1", port=port)
            .update_query_dict({"sslmode": "disable"})
            .render_as_string(hide_password=False)
        )
        self.queries: list[str] = []
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False

    def clear(self) -> None:
        with self._lock:
            self.queries.clear()

    def taken(self) -> list[str]:
        """The queries recorded so far, and none from now on until the next ones."""
        with self._lock:
            taken, self.queries = self.queries, []
        return taken

    def __enter__(self) -> QueryRecorder:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._closed = True
        self._listener.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(
                (self._target.host or "127.0.0.1", self._target.port or 5432)
            )
            self._sockets += [client, upstream]
            threading.Thread(target=self._frontend, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _shut(src, dst)

    def _frontend(self, client: socket.socket, upstream: socket.socket) -> None:
        """Forward the client's bytes, reading its messages on the way: the startup
        message (no type byte), then `type, int32 length, body` each."""
        buffer = b""
        started = False
        try:
            while data := client.recv(65536):
                # Read before forwarding: a query is recorded before its answer can
                # reach the client.
                buffer += data
                while True:
                    head = 4 if not started else 5
                    if len(buffer) < head:
                        break
                    if not started:
                        (length,) = struct.unpack("!i", buffer[:4])
                        kind, body_at = b"", 4
                    else:
                        kind = buffer[:1]
                        (length,) = struct.unpack("!i", buffer[1:5])
                        length += 1
                        body_at = 5
                    if len(buffer) < length:
                        break
                    if kind == b"Q":
                        text = buffer[body_at:length].rstrip(b"\0").decode()
                        with self._lock:
                            self.queries.append(text)
                    if started or struct.unpack("!i", buffer[4:8])[0] not in _REQUESTS:
                        started = True
                    buffer = buffer[length:]
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _shut(client, upstream)


def _shut(*sockets: socket.socket) -> None:
    """End both directions of a proxied connection (either side may be gone)."""
    for s in sockets:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
