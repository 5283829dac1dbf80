"""`siptar serve`: gunicorn serving the four services on one port."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from settings import Settings

logger = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork: the engine is created here, per worker.
        from services.common.gc_tuning import tune_gc
        from services.common.wsgi import make_wsgi_app

        app = make_wsgi_app(self.settings)  # turns spyne's forced collections off too
        tune_gc()
        return app


def serve(settings: Settings, *, bind: str, workers: int, threads: int = 8) -> None:
    run_gunicorn(settings, bind=bind, workers=workers, threads=threads, cls=_Gunicorn)


def run_gunicorn(
    settings: Settings, *, bind: str, workers: int, threads: int, cls: type[_Gunicorn]
) -> None:
    """gunicorn with threaded workers (gthread): a client that stalls mid-request holds
    one thread, not a whole worker, and idle keep-alive connections hold none. For the
    internet, put a buffering reverse proxy in front (docs/security.md): it reads every
    request whole before gunicorn sees it. `threads=1` is gunicorn's sync worker."""
    base = settings.public_url.rstrip("/")

    def when_ready(arbiter: Any) -> None:
        # gunicorn calls this once the socket is bound: a taken port prints no URLs.
        print("SipTar Billing Server: WSDLs at", flush=True)
        for name in ("billing", "config", "reseller", "cdr"):
            print(f"  {base}/{name}?wsdl", flush=True)

    cls(
        settings,
        {
            "bind": bind,
            "workers": workers,
            "worker_class": "gthread" if threads > 1 else "sync",
            "threads": threads,
            "timeout": 120,
            # A connection kept alive but idle is closed after 5 s (it holds no thread).
            "keepalive": 5,
            "accesslog": "-",
            "preload_app": False,
            "when_ready": when_ready,
        },
    ).run()
