"""The cyclic garbage collector, tuned for long-lived server processes.

Used by `siptar serve` (each gunicorn worker) and `siptar ami`. Three things:

- spyne runs a full `gc.collect()` after a request at most once a second per process
  (`spyne.const.MIN_GC_INTERVAL`, read in `spyne/context.py`, `MethodContext.close`).
  A full collection walks every tracked object: ~27 ms on an empty worker, ~500 ms once
  a 1M-prefix plan is in memory, and the request that triggers it waits (Authorize's p99
  went from ~50 to ~790 ms). services/common/wsgi.py lifts the interval to infinity
  (here would import spyne into the listener): the generational collector still runs
  on its own thresholds. (spyne's reason, closing file descriptors
  of uploads in time, does not apply: nothing here keeps files in cycles.)
- the first threshold is raised: a batch of 200 CDRs, a page of 1,000 rows, allocates
  tens of thousands of objects, and at CPython's default (700) each set off several
  collections that walked them all (~10 % of the listener's CPU).
- the objects of start-up, and every compiled plan once built (`tune_gc` makes the
  plan cache call `freeze_long_lived` after each compile), are moved to the permanent
  generation with `gc.freeze()`, so no collection walks them again. Frozen objects
  are still freed by reference counting when the plan is replaced (a plan holds no
  reference cycles).
"""

from __future__ import annotations

import gc
import logging

from db.rates import plans

logger = logging.getLogger(__name__)

GC_THRESHOLD = (50_000, 20, 10)


def tune_gc() -> None:
    """For a server process: fewer, larger collections, the start-up objects frozen,
    and plans frozen once compiled. Not in a test process: it compiles hundreds of
    small plans and would only pay for the collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    plans.after_compile = freeze_long_lived


def freeze_long_lived() -> None:
    """After something big and long-lived was built (a compiled plan): collect what
    building it left, then freeze the rest."""
    gc.collect()
    gc.freeze()
    logger.debug("frozen %d objects out of the collector", gc.get_freeze_count())
