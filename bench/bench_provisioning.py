"""Provisioning at scale: 20,000 SIP accounts (20 resellers of 1,000 customers, 1 % of
them blocked) on PostgreSQL and SQLite. Prints what one REGISTER costs Asterisk on the
realtime views (its lookups of ps_endpoints, ps_auths and ps_aors by id), the AMI
listener's change fingerprint (one poll: the trigger-bumped counter now, and the
digest of every provisioned row it replaced, for comparison), and `export-pjsip`.

Set SIPTAR_BENCH_ACCOUNTS to try another size."""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from db import migrate, schema
from db.asterisk_views import VIEWS
from db.session import make_engine, make_session_factory
from services.provisioning.pjsip_conf import fingerprint, pjsip_sections, render
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

ACCOUNTS = int(os.environ.get("SIPTAR_BENCH_ACCOUNTS", "20000"))
RESELLERS = 20
HA1 = "0123456789abcdef0123456789abcdef"


def populate(factory: Callable[[], Session]) -> None:
    per = ACCOUNTS // RESELLERS
    with factory() as s:
        s.execute(insert(schema.Account), [{"id": 1, "role": "admin", "name": "A", "path": "/1/"}])
        rows = []
        for r in range(RESELLERS):
            rid = 2 + r
            rows.append(
                {
                    "id": rid,
                    "role": "reseller",
                    "name": f"R{r}",
                    "parent_id": 1,
                    "path": f"/1/{rid}/",
                }
            )
        s.execute(insert(schema.Account), rows)
        rows = []
        for n in range(ACCOUNTS):
            rid, aid = 2 + n // per % RESELLERS, 1000 + n
            rows.append(
                {
                    "id": aid,
                    "role": "customer",
                    "name": f"c{n}",
                    "parent_id": rid,
                    "path": f"/1/{rid}/{aid}/",
                    "sip_username": f"phone{n}",
                    "sip_md5_cred": HA1,
                    "status": "blocked" if n % 100 == 7 else "active",
                    "accountcode": f"acct{n}",
                }
            )
        s.execute(insert(schema.Account), rows)
        s.commit()


def register_lookups(engine: Engine) -> None:
    """What res_config_pgsql asks per REGISTER (each object by id), over libpq as
    Asterisk does: psycopg2 directly, no SQLAlchemy in between."""
    timings = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for n in range(0, ACCOUNTS, max(1, ACCOUNTS // 300)):
            started = time.perf_counter()
            for view in ("ps_endpoints", "ps_auths", "ps_aors"):
                cursor.execute(f"SELECT * FROM {view} WHERE id = %s", (f"phone{n}",))
                cursor.fetchall()
            timings.append(time.perf_counter() - started)
        cursor.execute("EXPLAIN SELECT * FROM ps_auths WHERE id = 'phone5'")
        uses_index = "Index" in " ".join(str(r[0]) for r in cursor.fetchall())
    finally:
        raw.close()
    print(
        f"   REGISTER (3 lookups by id): median {statistics.median(timings) * 1e3:.2f} ms,"
        f" max {max(timings) * 1e3:.2f} ms; ps_auths plan uses an index: {uses_index}"
    )


def rows_digest(session: Session) -> str:
    """The poll before the change counter (revision 0018b): every provisioned row,
    digested by PostgreSQL, or rendered and digested here on SQLite."""
    digest = hashlib.sha256()
    if session.get_bind().dialect.name == "postgresql":
        for view in VIEWS:
            digest.update(
                str(
                    session.execute(
                        text(
                            "SELECT md5(coalesce(string_agg(v::text, E'\\n' ORDER BY v.id),"
                            f" '')) FROM {view.name} AS v"
                        )
                    ).scalar_one()
                ).encode()
            )
        return digest.hexdigest()
    for section in pjsip_sections(session):
        digest.update(section.encode())
    return digest.hexdigest()


def _timed(run: Callable[[], object], times: int = 5) -> float:
    """The median of a few runs, in ms."""
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e3


def polls(factory: Callable[[], Session]) -> None:
    with factory() as s:
        counter = _timed(lambda: fingerprint(s), 50)
        before = _timed(lambda: rows_digest(s), 3)
        started = time.perf_counter()
        size = len(render(s))
        export = time.perf_counter() - started
    print(
        f"   listener poll: change counter {counter:.2f} ms"
        f" (digest of every row, before: {before:.0f} ms);"
        f" export-pjsip: {export * 1e3:.0f} ms, {size / 1e6:.1f} MB"
    )


def run() -> None:
    print(f"{ACCOUNTS:,} SIP accounts under {RESELLERS} resellers (1 % blocked)")
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench"')
        url = pg_db_url(server.url, "bench")
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        populate(factory)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print("PostgreSQL (the views):")
        register_lookups(engine)
        polls(factory)
        engine.dispose()
    finally:
        server.stop()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        populate(factory)
        print("SQLite (the selects; Asterisk reads the include instead):")
        polls(factory)
        engine.dispose()
