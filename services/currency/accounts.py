"""An account's currency as asked for at its creation: a code of the currency table."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.currency_schema import Currency
from rating.errors import InvalidInput
from rating.fx import check_code


def account_currency(session: Session, asked: str) -> str:
    """The code, checked against the currency table; "" when none was asked for."""
    if not (asked or "").strip():
        return ""
    code = check_code(asked)
    if session.get(Currency, code) is None:
        raise InvalidInput(f"currency {code}: not in the currency table (ListCurrencies)")
    return code
