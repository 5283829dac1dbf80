"""The exchange rates every worker converts with, cached per process against the
`currencies` version stamp (db/config_versions.py), and the operator's currency."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import config_versions
from db.currency_schema import Currency, ExchangeRateRow
from db.schema import Account
from rating.fx import ExchangeRate, FxTable
from services.credit.cdr_batch import remembered

CURRENCIES = "currencies"  # the config_versions stamp bumped by every write here

_lock = threading.Lock()
_cache: dict[str, tuple[int, FxTable]] = {}
_operators: dict[str, str] = {}  # database URL -> the operator's currency


def fx_table(session: Session) -> FxTable:
    """Every rate, current as of this transaction: one statement (the stamp) when the
    cached table is up to date; once per CDR batch inside cdr_batch.batch."""
    return remembered(session, ("fx-table",), lambda: _load(session))


def _load(session: Session) -> FxTable:
    key = str(session.get_bind().engine.url)
    version = config_versions.current(session, CURRENCIES)
    cached = _cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    rates = [
        ExchangeRate(r.from_currency, r.to_currency, r.rate, r.valid_from)
        for r in session.scalars(select(ExchangeRateRow))
    ]
    decimals = {
        code: int(n) for code, n in session.execute(select(Currency.code, Currency.decimals))
    }
    table = FxTable(rates, decimals)
    with _lock:
        _cache[key] = (version, table)
    return table


def operator_currency(session: Session) -> str:
    """The operator's currency: the admin account's (the root of the tree, set once by
    `siptar init --currency`; nothing changes it later), so it is kept per process and
    database after the first look: the CDR path pays no statement for it. USD on a
    database without an operator yet (not kept)."""
    # Once per listener batch: rendering the URL to key the dict costs more than the rest.
    return remembered(session, ("operator currency",), lambda: _operator_currency(session))


def _operator_currency(session: Session) -> str:
    key = str(session.get_bind().engine.url)
    known = _operators.get(key)
    if known is not None:
        return known
    found = session.scalar(
        select(Account.currency).where(Account.parent_id.is_(None)).order_by(Account.id)
    )
    if found is None:
        return "USD"
    _operators[key] = found
    return found
