"""Where a SOAP request's time goes on the server, around its use case: the four
services' WSGI application (`make_wsgi_app`, as one gunicorn worker runs it) and the
trivial Echo (bench/soap_server.py), called in process with prepared bodies: no HTTP,
no client, so what is left is the server's own work.

1. the median of each operation, interleaved (Echo, GetBalance, Authorize, Echo...);
2. the same calls under cProfile, and the milliseconds per request of each part (XML
   parse and schema validation, the Auth header, the unit of work, the use case, the
   audit hooks, serialization, the database driver...). cProfile inflates Python-heavy
   parts (2-3x): compare parts with each other, not with the medians.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
import time
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from lxml import etree

from bench.bench_authorize import NUMBERS, prepare
from bench.soap_server import trivial_app
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

CALLS = 400
ECHO = (
    b'<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"'
    b' xmlns:t="urn:siptar:bench:trivial"><e:Body><t:Echo><t:text>x</t:text></t:Echo>'
    b"</e:Body></e:Envelope>"
)
# (label, file name ends with, function name, a part of the path it must contain)
PARTS = [
    ("the whole request (SoapGuard)", "common/wsgi.py", "__call__", ""),
    ("spyne's WSGI request (handle_rpc)", "spyne/server/wsgi.py", "handle_rpc", ""),
    ("  body checks (DTD, encoding)", "soap_body.py", "checked_body", ""),
    ("  spyne: parse + schema validation", "soap11.py", "create_in_document", ""),
    ("  spyne: XML to objects", "soap11.py", "deserialize", ""),
    ("  unit of work: new session", "db/session.py", "__enter__", ""),
    ("  Auth header (caller cache)", "throttle.py", "guarded_authenticate", ""),
    ("  number ranges (check_inputs)", "limits.py", "check_inputs", ""),
    ("  audit: per-statement hook", "audit.py", "_on_execute", ""),
    ("  audit: flush hook", "audit.py", "_after_flush", ""),
    ("  caller cache: bulk hook", "caller_cache.py", "_on_bulk", ""),
    ("  the operation (service + use case)", "spyne/service.py", "call_wrapper", ""),
    ("    settings stamp + cache", "runtime_settings.py", "stored", ""),
    ("  unit of work: commit", "db/session.py", "commit", ""),
    ("  unit of work: end (rollback, close)", "db/session.py", "__exit__", ""),
    ("  spyne: objects to XML", "_base.py", "get_out_string_pull", "spyne/server"),
    ("  login attempts record", "throttle.py", "record", ""),
    ("  spyne: context close", "spyne/context.py", "close", ""),
    # Names are fnmatch patterns: cProfile names a C method by its instance's type, so
    # psycopg2's cursor or db/merged_begin.py's subclass of it.
    ("psycopg2 execute (round trips)", "~", "<method 'execute' of '*ursor' objects>", ""),
    ("psycopg2 execute (round trips)", "merged_begin.py", "execute", ""),
    ("psycopg2 commit", "~", "<method 'commit' of '*onnection' objects>", ""),
    ("psycopg2 commit", "merged_begin.py", "commit", ""),
    ("psycopg2 rollback", "~", "<method 'rollback' of '*onnection' objects>", ""),
    ("psycopg2 rollback", "merged_begin.py", "rollback", ""),
    ("SQLAlchemy execute, all", "engine/base.py", "_execute_context", ""),
]

WsgiApp = Callable[..., Any]


def call(app: WsgiApp, path: str, body: bytes) -> bytes:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "bench",
        "wsgi.url_scheme": "http",
    }
    status: list[str] = []
    out = b"".join(app(environ, lambda s, _h, _e=None: status.append(s)))
    assert status[0].startswith("200"), (status, out[:300])
    return out


def billing_bodies(code: str, n: int) -> tuple[bytes, list[bytes]]:
    """GetBalance, and `n` Authorize bodies (each its own uniqueid), as zeep sends them."""
    import zeep

    z = zeep.Client("wsdl/billing.wsdl")
    auth = z.get_element("{urn:siptar:auth}Auth")(username="admin", password="admin")

    def body(name: str, **kw: Any) -> bytes:
        return bytes(etree.tostring(z.create_message(z.service, name, _soapheaders=[auth], **kw)))

    calls = [
        body("Authorize", call={"number": NUMBERS[i % 5], "account": code, "uniqueid": f"p.{i}"})
        for i in range(n)
    ]
    return body("GetBalance"), calls


def operations(url: str, code: str) -> dict[str, Callable[[], bytes]]:
    from services.common.gc_tuning import tune_gc
    from services.common.wsgi import make_wsgi_app
    from settings import Settings

    os.environ["SIPTAR_DATABASE_URL"] = url
    app = make_wsgi_app(Settings.from_env())
    tune_gc()
    trivial = trivial_app()
    balance, authorizations = billing_bodies(code, 3 * CALLS + 100)
    left = iter(authorizations)
    return {
        "Echo": lambda: call(trivial, "/trivial", ECHO),
        "GetBalance": lambda: call(app, "/billing", balance),
        "Authorize": lambda: call(app, "/billing", next(left)),
    }


def parts(stats: pstats.Stats, calls: int) -> dict[str, float]:
    found: dict[str, float] = {}
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for label, file_end, name, inside in PARTS:
        total, seen = 0.0, False
        for (path, _line, function), (_cc, _nc, _tt, cumulative, _callers) in table.items():
            if path.endswith(file_end) and fnmatchcase(function, name) and inside in path:
                total, seen = total + cumulative, True
        if seen:
            found[label] = found.get(label, 0.0) + total / calls * 1000
    return found


def run() -> None:
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "soap_parts"')
        url = pg_db_url(server.url, "soap_parts")
        ops = operations(url, prepare(url)[0][0])
        for one in ops.values():
            for _ in range(50):
                one()
        times: dict[str, list[float]] = {name: [] for name in ops}
        for _ in range(CALLS):
            for name, one in ops.items():
                started = time.perf_counter()
                one()
                times[name].append(time.perf_counter() - started)
        load = os.getloadavg()[0]
        print(f"   in process, no HTTP, interleaved, load {load:.1f}:")
        for name, seconds in times.items():
            print(f"   {name:10s} median {statistics.median(seconds) * 1000:6.2f} ms")
        columns = {}
        for name, one in ops.items():
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(CALLS):
                one()
            profile.disable()
            columns[name] = parts(pstats.Stats(profile), CALLS)
        print(f"   under cProfile, ms per request: {'':22s}" + "".join(f"{n:>11s}" for n in ops))
        for label in dict.fromkeys(label for label, *_ in PARTS):
            if any(label in c for c in columns.values()):
                cells = "".join(
                    f"{columns[n][label]:11.3f}" if label in columns[n] else f"{'':11s}"
                    for n in ops
                )
                print(f"   {label:54s}{cells}")
    finally:
        server.stop()


if __name__ == "__main__":
    run()
