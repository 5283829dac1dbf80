"""One range for every number a caller sends, the same on SQLite and PostgreSQL.

`check_inputs` walks the whole input of a call (arguments, nested wire types, lists)
before the operation runs, from SiptarApplication.call_wrapper: every operation, also
one added later, is checked without code of its own. An integer must fit in 32 bits
signed (PostgreSQL's `integer`, which ids, counts, seconds and offsets are stored in;
SQLite would take more, so the smaller one is the limit for both), and a decimal must be
an amount a money column holds (|x| <= 999,999,999,999.999999, Numeric(18, 6)).
Amounts the server computes (a balance after a payment, a price after a markup) are
checked where they are written: db/types.Money and db/ledger.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from rating.errors import InvalidInput
from rating.money import MAX_AMOUNT

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
_MAX_DEPTH = 32


def check_inputs(names: Iterable[str], values: Iterable[Any]) -> None:
    for name, value in zip(names, values, strict=False):
        _check(name, value, 0)


def _check(path: str, value: Any, depth: int) -> None:
    if value is None or isinstance(value, bool | str | bytes):
        return
    if isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise InvalidInput(f"{path}: out of range ({MIN_INT} to {MAX_INT})")
    elif isinstance(value, Decimal):
        if not value.is_finite() or abs(value) > MAX_AMOUNT:
            raise InvalidInput(f"{path}: out of range (at most {MAX_AMOUNT} in size)")
    elif depth < _MAX_DEPTH and isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(f"{path}[{i}]", item, depth + 1)
    elif depth < _MAX_DEPTH and hasattr(type(value), "_type_info"):
        for name in type(value)._type_info:
            _check(f"{path}.{name}", getattr(value, name, None), depth + 1)
