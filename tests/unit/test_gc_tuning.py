"""A server process (services/common/gc_tuning.py): spyne's periodic full collection
off, start-up objects and every compiled plan frozen out of the collector. Run in a
process of its own: freezing is for the whole process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import gc
from decimal import Decimal

import spyne.const
from spyne.context import MethodContext

from db.rates import plans
from services.common.gc_tuning import GC_THRESHOLD, freeze_long_lived, tune_gc
from services.common.wsgi import no_periodic_collection

no_periodic_collection()
tune_gc()
assert spyne.const.MIN_GC_INTERVAL == float("inf")
assert gc.get_threshold() == GC_THRESHOLD
assert plans.after_compile is freeze_long_lived
frozen = gc.get_freeze_count()
assert frozen > 10_000, frozen
big = [[n, Decimal(n)] for n in range(50_000)]  # stands for a compiled plan
freeze_long_lived()
assert gc.get_freeze_count() >= frozen + 50_000

collections = []
gc.callbacks.append(lambda phase, info: collections.append(info["generation"]))
import spyne.context
spyne.context._LAST_GC_RUN = 0.0  # as if the last collection was long ago
class App:
    class event_manager:
        @staticmethod
        def fire_event(*args): pass
ctx = MethodContext.__new__(MethodContext)
ctx.app, ctx.files = App, []
ctx.close()
assert 2 not in collections, collections  # no full collection after a request
print("ok")
"""


def test_a_server_process_freezes_and_spyne_collects_nothing() -> None:
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


APP_SCRIPT = """
import spyne.const
from services.common.wsgi import make_wsgi_app
from settings import Settings

assert spyne.const.MIN_GC_INTERVAL == 1.0  # spyne's own default
make_wsgi_app(Settings(database_url="sqlite://"))
assert spyne.const.MIN_GC_INTERVAL == float("inf")
print("ok")
"""


def test_every_process_that_builds_the_services_turns_spynes_collection_off() -> None:
    # Not only gunicorn workers: the in-process servers of the tests and any embedding.
    # A full collection holds the GIL, stalling the request that holds SQLite's write lock.
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", APP_SCRIPT], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
