"""All four services behind one WSGI callable: /billing, /config, /reseller, /cdr.

`make_wsgi_app(settings)` is called once per gunicorn worker, after the fork: it
builds the engine there (never at import), pins each WSDL's address to
SIPTAR_PUBLIC_URL, and wraps everything in `SoapGuard`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

import spyne.const
from spyne.server.wsgi import WsgiApplication
from spyne.util.wsgi_wrapper import WsgiMounter
from sqlalchemy.orm import Session

from ami_listener.actions import AmiTarget
from db.rates import plans
from db.session import make_engine, make_session_factory, masked
from services import billing, cdr, config, reseller
from services.common.app import CLIENT_ADDRESS_KEY, SiptarApplication
from services.common.logs import quiet_spyne_body_log
from services.common.soap_body import BadBody, checked_body, media_type_problem
from services.common.wsdl import render_wsdl
from services.credit.policy import CreditPolicy
from settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
SERVICES = {m.NAME: m for m in (billing, config, reseller, cdr)}
# A million-row rate deck is ~40 MB of CSV; nothing else comes close.
MAX_BODY = 128 * 1024 * 1024

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def build_applications(
    session_factory: Callable[[], Session] | None,
) -> dict[str, SiptarApplication]:
    apps = {}
    for name, module in SERVICES.items():
        app = module.application()
        app.session_factory = session_factory
        apps[name] = app
    return apps


def wsgi_applications(
    apps: dict[str, SiptarApplication], public_url: str
) -> dict[str, WsgiApplication]:
    """spyne WSGI apps with their WSDLs built now, for `public_url`, and pinned."""
    wsgi = {}
    for name, app in apps.items():
        w = WsgiApplication(app, max_content_length=MAX_BODY)
        render_wsdl(w, f"{public_url.rstrip('/')}/{name}")
        wsgi[name] = w
    return wsgi


def no_periodic_collection() -> None:
    """spyne runs a full gc.collect() after a request at most once a second
    (`spyne.const.MIN_GC_INTERVAL`, read by `MethodContext.close` in spyne/context.py):
    ~500 ms once a big plan is in memory, paid by the request that triggers it. Off, for
    every process that serves the services (services/common/gc_tuning.py says what
    collects instead). A full collection holds the GIL, so in a threaded server it also
    stalls every other request, including one holding SQLite's write lock: in a big
    process (the test suite's, ~1 GB) that made 50 parallel Authorizes wait past the 30 s
    busy timeout."""
    spyne.const.MIN_GC_INTERVAL = float("inf")


def make_wsgi_app(settings: Settings) -> WsgiApp:
    quiet_spyne_body_log()
    no_periodic_collection()
    engine = make_engine(settings.database_url)
    logger.info("database %s", masked(settings.database_url))
    plans.warm(engine)  # big sheets' plans built in the background from the start
    apps = build_applications(make_session_factory(engine))
    for app in apps.values():
        app.credit_policy = CreditPolicy.from_settings(settings)
        app.voucher_key = settings.voucher_key.encode()
        app.ami_target = AmiTarget(
            settings.ami_host, settings.ami_port, settings.ami_user, settings.ami_secret
        )
    mounter = WsgiMounter(wsgi_applications(apps, settings.public_url or DEFAULT_PUBLIC_URL))
    proxies = frozenset(p.strip() for p in settings.trusted_proxies.split(",") if p.strip())
    return SoapGuard(mounter, trusted_proxies=proxies)


class SoapGuard:
    """Turns what would escape spyne as an HTML 500 page into a SOAP fault.

    Every POST must be SOAP 1.1 (`text/xml`). Its body is decoded and checked as text
    (services/common/soap_body.py): SOAP forbids DTDs, and a DTD is how entity-expansion
    bombs and external entities arrive, so a body with one is refused before any XML
    parser sees it, whatever its encoding. Anything that still escapes becomes a bare
    `Server` fault.
    """

    def __init__(self, app: WsgiApp, trusted_proxies: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    def client_address(self, environ: dict[str, Any]) -> str:
        """REMOTE_ADDR, or behind a trusted reverse proxy the last address its
        X-Forwarded-For adds (what the proxy saw; earlier entries are the client's word)."""
        remote = str(environ.get("REMOTE_ADDR") or "")
        forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "")
        if remote in self.trusted_proxies and forwarded:
            return forwarded.rsplit(",", 1)[-1].strip()[:64]
        return remote

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ[CLIENT_ADDRESS_KEY] = self.client_address(environ)
        if environ.get("REQUEST_METHOD") == "POST":
            body = _read_body(environ)
            if body is None:
                return _fault(
                    start_response, "Client.InvalidInput", "request body too large", "413"
                )
            content_type = environ.get("CONTENT_TYPE") or ""
            problem = media_type_problem(content_type)
            if problem:
                return _fault(start_response, "Client.InvalidInput", problem, "415")
            try:
                body = checked_body(body, content_type)
            except BadBody as e:
                return _fault(start_response, f"Client.{e.code}", e.message)
            environ["CONTENT_TYPE"] = "text/xml; charset=utf-8"
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        try:
            return self.app(environ, start_response)
        except Exception:
            logger.exception("error escaped the SOAP stack")
            return _fault(start_response, "Server", "Internal Error")


def _read_body(environ: dict[str, Any]) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return None
    stream = environ["wsgi.input"]
    body = bytes(stream.read(length) if length else stream.read(MAX_BODY + 1))
    return None if len(body) > MAX_BODY else body


def _fault(
    start_response: Callable[..., Any], code: str, text: str, status: str = "500"
) -> list[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soap11env:Envelope xmlns:soap11env="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soap11env:Body><soap11env:Fault>"
        f"<faultcode>soap11env:{escape(code)}</faultcode>"
        f"<faultstring>{escape(text)}</faultstring>"
        "</soap11env:Fault></soap11env:Body></soap11env:Envelope>"
    ).encode()
    reasons = {
        "500": "500 Internal Server Error",
        "413": "413 Payload Too Large",
        "415": "415 Unsupported Media Type",
    }
    start_response(
        reasons[status],
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
