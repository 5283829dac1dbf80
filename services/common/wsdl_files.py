"""`siptar wsdl`: the four WSDL documents, canonical, for committing in wsdl/.

The committed files carry a fixed example address; clients point zeep at the real
server with `create_service(binding, url)` (client/ does).
"""

from __future__ import annotations

from pathlib import Path

from services.common.wsdl import render_wsdl

COMMITTED_URL = "http://localhost:8080"


def wsdl_documents() -> dict[str, bytes]:
    from spyne.server.wsgi import WsgiApplication

    from services.common.wsgi import build_applications

    docs = {}
    for name, app in build_applications(None).items():
        docs[name] = render_wsdl(WsgiApplication(app), f"{COMMITTED_URL}/{name}")
    return docs


def write_wsdl_files(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in wsdl_documents().items():
        path = out / f"{name}.wsdl"
        path.write_bytes(text)
        written.append(path)
    return written
