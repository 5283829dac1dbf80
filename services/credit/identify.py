"""Who is calling: the account Authorize bills, found from what the call carries."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.schema import Account, AccountCallerId, Login
from services.credit.answers import AuthorizeRequest


def identify(session: Session, req: AuthorizeRequest) -> Account | None:
    """By PIN (a wrong PIN identifies nobody), else by SIP peer / accountcode / login
    username, else by a caller ID bound to the account."""
    pin, name, ani = req.pin.strip(), req.account.strip(), req.callerid.strip()
    if pin:
        return session.scalars(select(Account).where(Account.pin == pin)).first()
    if name:
        by_peer = Account.sip_username == name
        found = session.execute(
            select(Account, by_peer).where(or_(by_peer, Account.accountcode == name))
        ).all()
        if found:  # the SIP peer first, should one account's peer be another's code
            return max(found, key=lambda row: bool(row[1]))[0]
        login = session.scalars(
            select(Account)
            .join(Login, Login.account_id == Account.id)
            .where(Login.username == name)
        ).first()
        if login is not None:
            return login
    if not ani:
        return None
    return session.scalars(
        select(Account)
        .join(AccountCallerId, AccountCallerId.account_id == Account.id)
        .where(AccountCallerId.callerid == ani)
    ).first()
