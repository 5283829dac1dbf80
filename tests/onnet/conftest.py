"""On-net calls over the demo: Bob's SIP peer is `1002`; Alice (acct1001, Reseller One's
retail sheet) pays 0.0100 a minute on-net in whole minutes there; Reseller One's own
sheet (Wholesale) has no on-net row: free at its level. The AMI side of such a call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from db.rates import bump_version, row_values
from db.schema import Account
from db.schema import Rate as RateRow
from rating.model import ON_NET, Rate
from tests.ami_calls import Call
from tests.credit.builders import ALICE_ID, RESELLER_RETAIL

BOB_ID = 4
BOB_PEER = "1002"
ON_NET_RATE = Rate(ON_NET, "On-net", Decimal("0.0100"), initial_increment=60, increment=60)


@dataclass(frozen=True)
class OnNetCall(Call):
    """A synthetic call (tests/ami_calls.py) that the dialplan sent to a peer, not a trunk."""

    @property
    def dstchannel(self) -> str:
        return f"PJSIP/{self.number}-{self.n:08x}"

    @property
    def dialstring(self) -> str:
        return self.number  # Dial(PJSIP/1002): SIPTAR_DIALSTR of an on-net call


@pytest.fixture
def onnet(demo: None, session_factory: Callable[[], Session]) -> None:
    with session_factory() as s:
        s.execute(update(Account).where(Account.id == BOB_ID).values(sip_username=BOB_PEER))
        s.execute(insert(RateRow), [{"sheet_id": RESELLER_RETAIL, **row_values(ON_NET_RATE)}])
        bump_version(s, RESELLER_RETAIL)
        s.commit()


__all__ = ["ALICE_ID", "BOB_ID", "BOB_PEER", "OnNetCall", "onnet"]
