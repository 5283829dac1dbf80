"""`siptar serve` as the benchmarks run it, plus one trivial SOAP operation.

`python -m bench.soap_server BIND WORKERS THREADS` serves the four services exactly as
`siptar serve` does (same gunicorn settings, same `make_wsgi_app`), and `/trivial`, a
spyne Application with one `Echo` operation that touches no database and checks no
login: the cost of spyne, lxml and gunicorn alone, which Authorize is compared with.
"""

from __future__ import annotations

import sys
from typing import Any

from spyne import Application, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from services.common import server
from settings import Settings


class TrivialService(ServiceBase):
    @rpc(Unicode, _returns=Unicode)
    def Echo(ctx: Any, text: str | None) -> str:
        return text or ""


def trivial_app() -> WsgiApplication:
    app = Application(
        [TrivialService],
        tns="urn:siptar:bench:trivial",
        name="Trivial",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    return WsgiApplication(app)


class _WithTrivial(server._Gunicorn):
    def load(self) -> Any:
        real = super().load()
        trivial = trivial_app()

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO", "").startswith("/trivial"):
                return trivial(environ, start_response)
            return real(environ, start_response)

        return app


def main() -> None:
    bind, workers, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    settings = Settings.from_env()
    server.run_gunicorn(settings, bind=bind, workers=workers, threads=threads, cls=_WithTrivial)


if __name__ == "__main__":
    main()
