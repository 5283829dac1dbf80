"""One range for every number a caller sends, the same on SQLite and PostgreSQL.

`check_inputs` walks the whole input of a call (arguments, nested wire types, lists)
before the operation runs, from SiptarApplication.call_wrapper: every operation, also
one added later, is checked without code of its own. An integer must fit in 32 bits
signed (PostgreSQL's `integer`, which ids, counts, seconds and offsets are stored in;
SQLite would take more, so the smaller one is the limit for both), unless its wire type
is spyne's `Integer64` (`xs:long`: the ids of tables that grow past 2^31, such as
reservations and CDRs), then 64 bits; a decimal must be an amount a money column holds
(|x| <= 999,999,999,999.999999, Numeric(18, 6)).
Amounts the server computes (a balance after a payment, a price after a markup) are
checked where they are written: db/types.Money and db/ledger.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from spyne import Integer64, UnsignedInteger64

from rating.errors import InvalidInput
from rating.money import MAX_AMOUNT

MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
_MAX_DEPTH = 32


def check_inputs(types: Mapping[str, Any], values: Iterable[Any]) -> None:
    """`types`: the operation's arguments, name -> wire type, in order."""
    for (name, cls), value in zip(types.items(), values, strict=False):
        _check(name, cls, value, 0)


def _bounds(cls: Any) -> tuple[int, int]:
    if isinstance(cls, type) and issubclass(cls, Integer64 | UnsignedInteger64):
        return MIN_INT64, MAX_INT64
    return MIN_INT, MAX_INT


def _check(path: str, cls: Any, value: Any, depth: int) -> None:
    if value is None or isinstance(value, bool | str | bytes):
        return
    if isinstance(value, int):
        low, high = _bounds(cls)
        if not low <= value <= high:
            raise InvalidInput(f"{path}: out of range ({low} to {high})")
    elif isinstance(value, Decimal):
        if not value.is_finite() or abs(value) > MAX_AMOUNT:
            raise InvalidInput(f"{path}: out of range (at most {MAX_AMOUNT} in size)")
    elif depth < _MAX_DEPTH and isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(f"{path}[{i}]", cls, item, depth + 1)
    elif depth < _MAX_DEPTH and hasattr(type(value), "_type_info"):
        for name, member in type(value)._type_info.items():
            _check(f"{path}.{name}", member, getattr(value, name, None), depth + 1)
