"""All four services behind one WSGI callable: /billing, /config, /reseller, /cdr.

`make_wsgi_app(settings)` is called once per gunicorn worker, after the fork: it
builds the engine there (never at import), pins each WSDL's address to
SIPTAR_PUBLIC_URL, and wraps everything in `SoapGuard`.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from spyne.server.wsgi import WsgiApplication
from spyne.util.wsgi_wrapper import WsgiMounter
from sqlalchemy.orm import Session

from ami_listener.actions import AmiTarget
from db.session import make_engine, make_session_factory, masked
from services import billing, cdr, config, reseller
from services.common.app import SiptarApplication
from services.common.wsdl import render_wsdl
from settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
SERVICES = {m.NAME: m for m in (billing, config, reseller, cdr)}
# A million-row rate deck is ~40 MB of CSV; nothing else comes close.
MAX_BODY = 128 * 1024 * 1024
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

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


def make_wsgi_app(settings: Settings) -> WsgiApp:
    engine = make_engine(settings.database_url)
    logger.info("database %s", masked(settings.database_url))
    apps = build_applications(make_session_factory(engine))
    for app in apps.values():
        app.ami_target = AmiTarget(
            settings.ami_host, settings.ami_port, settings.ami_user, settings.ami_secret
        )
    mounter = WsgiMounter(wsgi_applications(apps, settings.public_url or DEFAULT_PUBLIC_URL))
    return SoapGuard(mounter)


class SoapGuard:
    """Turns what would escape spyne as an HTML 500 page into a SOAP fault.

    SOAP forbids DTDs, and a DTD is how entity-expansion bombs and external entities
    arrive, so a body with one is refused before any XML parser sees it. Anything that
    still escapes becomes a bare `Server` fault.
    """

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "POST":
            body = _read_body(environ)
            if body is None:
                return _fault(
                    start_response, "Client.InvalidInput", "request body too large", "413"
                )
            if _DTD.search(body):
                return _fault(
                    start_response,
                    "Client.XMLSyntaxError",
                    "DTDs and entity declarations are not allowed in SOAP messages",
                )
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
    reasons = {"500": "500 Internal Server Error", "413": "413 Payload Too Large"}
    start_response(
        reasons[status],
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
