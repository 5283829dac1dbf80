"""Column types that are exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from rating.errors import InvalidInput
from rating.fx import RATE_PLACES, check_rate
from rating.money import MAX_AMOUNT, MONEY_PLACES, quantize


class Money(TypeDecorator[Decimal]):
    """Numeric(18, 6) on PostgreSQL; integer millionths on SQLite.

    SQLite stores NUMERIC as a float (10.555 came back as 10.55), so there the amount
    is kept as a 64-bit integer of millionths, which SQLite adds and sums exactly.
    Because binds go through this type, `balance - :x` and `SUM(amount)` stay exact in
    SQL on both databases. Values are rounded half-up to 6 places before every write.
    """

    impl = Numeric(18, MONEY_PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, never float")
        amount = value if _at_most_six_places(value) else quantize(Decimal(value))
        if abs(amount) > MAX_AMOUNT:
            # The limit of Numeric(18, 6), enforced on SQLite too (its 64-bit millionths
            # would hold more): one range on both databases.
            raise InvalidInput(f"an amount of {amount} is out of range")
        if dialect.name == "sqlite":
            return int(amount.scaleb(MONEY_PLACES))
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            # SUM() of integers is an integer; a mix with a float would be a bug upstream.
            return (
                Decimal(int(value)).scaleb(-MONEY_PLACES).quantize(Decimal(1).scaleb(-MONEY_PLACES))
            )
        # PostgreSQL's Numeric(18, 6) comes back with exactly 6 places: nothing to round.
        exact = type(value) is Decimal and value.as_tuple().exponent == -MONEY_PLACES
        return value if exact else quantize(Decimal(value))

    @property
    def python_type(self) -> type:
        return Decimal


def _at_most_six_places(value: Any) -> bool:
    """A finite Decimal that rounding to 6 places would leave as it is: the bulk paths
    (recurring charges, CDR batches) bind tens of thousands of amounts that are
    already rounded, and `quantize` in a private context costs ~10 us each."""
    if type(value) is not Decimal:
        return False
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -MONEY_PLACES


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC everywhere.

    SQLite and PostgreSQL disagreed on a `+03:00` value (12:00 vs 09:00), so the offset
    is applied here, before either database sees it. Naive datetimes are refused.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError("datetimes must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)

    @property
    def python_type(self) -> type:
        return datetime


class ExactRate(TypeDecorator[Decimal]):
    """Numeric(18, 10) on PostgreSQL; integer 10^-10 units on SQLite (whose NUMERIC is
    a float), the same idea as db.types.Money with more places."""

    impl = Numeric(18, RATE_PLACES)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, RATE_PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("a rate must be Decimal, never float")
        rate = check_rate(Decimal(value))
        return int(rate.scaleb(RATE_PLACES)) if dialect.name == "sqlite" else rate

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-RATE_PLACES)
        return Decimal(value)

    @property
    def python_type(self) -> type:
        return Decimal
