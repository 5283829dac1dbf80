"""A bundle given to an account, written directly (the operations are tested over the
wire in tests/levels/test_bundles_wire.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from db.bundle_schema import AccountBundle, Bundle


def give_bundle(
    session: Session, owner_id: int, account_id: int, name: str, seconds: int, start: date
) -> int:
    """A bundle of `seconds` a month to Spain (prefix 34), sold by `owner_id` and held by
    `account_id` from `start` (billing day 1). Flushed, not committed."""
    bundle = Bundle(owner_id=owner_id, name=name, quantity=seconds, prefixes="34")
    session.add(bundle)
    session.flush()
    session.add(
        AccountBundle(
            account_id=account_id, bundle_id=bundle.id, position=0, start=start, billing_day=1
        )
    )
    session.flush()
    return bundle.id
