"""ExportCdrs: a month of 1,000,000 CDRs on a throwaway PostgreSQL, exported in parts
of 100,000 through the use case (services/cdr/exports.py), as the admin (all calls)
and as a reseller (its subtree: the path join), in CSV, TXT and XLSX (services/common/xlsx.py).
Prints the time, the bytes written and the process's peak RSS (this benchmark runs
in a process of its own: `python -m bench bench_exports`).

The SOAP edge adds base64 and spyne's serialisation of each part on top; the figures
here are the database and the file writing.
"""

from __future__ import annotations

import resource
import time

from sqlalchemy import text

from db import migrate
from db.session import UnitOfWork, make_engine, make_session_factory
from services.cdr.exports import ExportFilter, export_cdrs
from services.common.caller import Caller
from services.common.demo import load_demo
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

COUNT = 1_000_000
PART = 100_000

# One month of calls, spread over the demo's three customer accounts (ids 3, 4, 5:
# two of the reseller's, one of the operator's), made in the database itself.
FILL = """
INSERT INTO cdrs (uniqueid, sequence, linkedid, accountcode, account_id, src, dst, dcontext,
  callerid, channel, dstchannel, lastapp, lastdata, start_time, answer_time, end_time,
  duration, billsec, disposition, amaflags, userfield, peeraccount, extra, source, status,
  unrated_reason, fingerprint, hangup_reason, prefix, destination, billed_seconds,
  exact_cost, cost, received_at, rated_at)
SELECT 'bench-' || g, g, 'bench-' || g, 'acct100' || (g % 3 + 1), g % 3 + 3,
  '1001', '3491' || lpad((g % 10000000)::text, 7, '0'), 'outbound', '"Shop" <1001>',
  'PJSIP/1001-' || g, 'PJSIP/carrier1-' || g, 'Dial', 'PJSIP/carrier1', t, t,
  t + interval '95 seconds', 100, 95, 'ANSWERED', 'DOCUMENTATION', '', '', '', 'ami',
  'rated', '', md5(g::text), '', '34', 'Spain', 96, 0.0288, 0.0288, t, t
FROM generate_series(1, {count}) AS g,
  LATERAL (SELECT timestamp '2026-11-01' + (g * interval '2.592 seconds') AS t) AS x
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _walk(factory: object, caller: Caller, fmt: str, limit: int, max_rows: int) -> tuple[int, int]:
    rows = size = 0
    after: int | None = None
    while rows < max_rows:
        with UnitOfWork(factory) as uow:  # type: ignore[arg-type]
            part = export_cdrs(uow, caller, ExportFilter(), fmt, after, limit)
        rows += part.rows
        size += len(part.data)
        if part.next_after_id is None:
            break
        after = part.next_after_id
    return rows, size


def run() -> None:
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench_exports"')
        url = pg_db_url(server.url, "bench_exports")
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with UnitOfWork(factory) as uow:
            load_demo(uow)
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(FILL.replace("{count}", str(COUNT))))
            conn.execute(text("ANALYZE cdrs"))
        print(f"   {COUNT:,} CDRs made in {time.perf_counter() - started:.1f} s", flush=True)
        print(f"   peak RSS before exporting: {peak_rss_mb():.0f} MB", flush=True)
        admin = Caller(login_id=1, username="admin", account_id=1, role="admin", path="/1/")
        reseller = Caller(
            login_id=2, username="reseller", account_id=2, role="reseller", path="/1/2/"
        )
        for label, caller, fmt, limit, most in (
            ("admin, csv", admin, "csv", PART, COUNT),
            ("admin, txt", admin, "txt", PART, COUNT),
            ("reseller (subtree), csv", reseller, "csv", PART, COUNT),
            ("admin, xlsx", admin, "xlsx", PART, COUNT),
        ):
            started = time.perf_counter()
            rows, size = _walk(factory, caller, fmt, limit, most)
            took = time.perf_counter() - started
            print(
                f"   {label}: {rows:,} rows, {size / 1e6:.0f} MB in {took:.1f} s "
                f"({rows / took:,.0f} rows/s); peak RSS so far {peak_rss_mb():.0f} MB",
                flush=True,
            )
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    run()
