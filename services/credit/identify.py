"""Who is calling: the account Authorize bills, found from what the call carries.

Each look-up also answers whether the number dialled may be on-net (another account's
SIP peer, or an assigned DID: services/onnet/callee.py), so that an ordinary call sends
no statement of its own for that: the two EXISTS run on indexed columns inside the
statement that finds the caller. The statements are built once, at import.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased

from db.recurring_schema import Did
from db.schema import Account, AccountCallerId, Login
from db.shared_sql import prime
from services.credit.answers import AuthorizeRequest

# Shared by every statement below: primed, so that no first compile races (db/shared_sql.py).
_PEER = prime(aliased(Account))
ON_NET = or_(
    exists().where(_PEER.sip_username == bindparam("number")),
    exists().where(Did.number == bindparam("number"), Did.status == "assigned"),
).label("on_net")
_BY_PEER = Account.sip_username == bindparam("name")


def _caller(*where: ColumnElement[bool]) -> Select[Account, bool, bool]:
    return select(Account, _BY_PEER, ON_NET).where(*where)


_BY_PIN = _caller(Account.pin == bindparam("pin")).limit(1)
_BY_NAME = _caller(or_(_BY_PEER, Account.accountcode == bindparam("name")))
_BY_LOGIN = (
    _caller(Login.username == bindparam("name"))
    .join(Login, Login.account_id == Account.id)
    .limit(1)
)
_BY_ANI = (
    _caller(AccountCallerId.callerid == bindparam("ani"))
    .join(AccountCallerId, AccountCallerId.account_id == Account.id)
    .limit(1)
)


def identify(session: Session, req: AuthorizeRequest, number: str = "") -> Account | None:
    """By PIN (a wrong PIN identifies nobody), else by SIP peer / accountcode / login
    username, else by a caller ID bound to the account."""
    return identify_call(session, req, number)[0]


def identify_call(
    session: Session, req: AuthorizeRequest, number: str, by_name: bool = True
) -> tuple[Account | None, bool | None]:
    """`identify`, and whether `number` may be on-net: False when no account's peer nor
    assigned DID is `number` (no need to look), None when no statement that ran found
    a row to say it (ask services/onnet/callee.find_callee). `by_name` False: the SIP
    peer and accountcode were looked up already and found nobody
    (services/credit/chain_lock.identify_and_lock)."""
    pin, name, ani = req.pin.strip(), req.account.strip(), req.callerid.strip()
    params = {"number": number, "name": name, "pin": pin, "ani": ani}
    if pin:
        return _first(session.execute(_BY_PIN, params).all())
    if name:
        found = session.execute(_BY_NAME, params).all() if by_name else []
        if found:  # the SIP peer first, should one account's peer be another's code
            return _first([max(found, key=lambda row: bool(row[1]))])
        login = session.execute(_BY_LOGIN, params).all()
        if login:
            return _first(login)
    if not ani:
        return None, None
    return _first(session.execute(_BY_ANI, params).all())


def _first(rows: Sequence[Row[Account, bool, bool]]) -> tuple[Account | None, bool | None]:
    if not rows:
        return None, None
    account, _peer, on_net = rows[0]
    return account, bool(on_net)
