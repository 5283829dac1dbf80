"""Settlement rules the other credit tests leave open (found by mutation testing,
docs/mutation.md; the rules are docs/credit_control.md, Settlement): which reservation a
CDR settles, the trunk of each call of a batch, and the buy cost's moment and warning."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, insert, select

from db.rates import row_values
from db.schema import Cdr, Charge, Provider, RateSheet, Trunk
from db.schema import Rate as RateRow
from db.session import UnitOfWork
from rating.model import Rate
from services.cdr.batches import store_batch
from services.cdr.usecases import Outcome
from services.credit import cdr_batch
from services.credit.calls import SettleCommand, settle_call
from services.credit.expiry import expire_due
from services.credit.settlement import ACCOUNT_FIELD
from services.credit.trunk_match import trunk_of_channel
from tests.credit.builders import ALICE_ID, NOON, customer, route, trunk
from tests.credit.test_authorize import SPAIN, auth, cdr, record, reservations
from tests.credit.test_slices import ADMIN

D = Decimal
GERMANY = "4930123456"
BOB_ID = 4
Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


class TestWhichReservation:
    def test_a_cdr_of_another_account_leaves_the_channels_reservation_open(self, uow: Uow) -> None:
        auth(uow, account="acct1001", uniqueid="mix.1")  # Alice's call
        assert record(uow, cdr("mix.1", "acct1002", 60)) is Outcome.RATED  # Bob's CDR
        (held,) = reservations(uow, ALICE_ID)
        assert (held.status, held.cdr_id) == ("open", None)

    def test_the_newest_reservation_of_a_channel_is_the_one_settled(self, uow: Uow) -> None:
        """A calling card dials again on the same channel: its CDR ends the call it
        was authorized last for; the older reservation expires in its time."""
        first = auth(uow, account="acct1001", uniqueid="card.1")
        second = auth(uow, account="acct1001", uniqueid="card.1")
        assert record(uow, cdr("card.1", "acct1001", 60)) is Outcome.RATED
        statuses = {r.id: r.status for r in reservations(uow, ALICE_ID)}
        assert statuses == {first.reservation_id: "open", second.reservation_id: "settled"}

    def test_a_cdr_without_uniqueid_settles_no_reservation_made_without_one(self, uow: Uow) -> None:
        """Authorize over SOAP may name no channel (SettleCall then names the
        reservation): a CDR that has no UniqueID either is not its call."""
        with uow() as u:
            spain = trunk(u, "spain", {"34": "0.0060"})
            route(u, "34", "lcr", [(spain, 0, 1)])
        auth(uow, account="acct1001")  # uniqueid ""
        assert record(uow, cdr("", "acct1001", 60, dstchannel="")) is Outcome.RATED
        (held,) = reservations(uow, ALICE_ID)
        assert (held.status, held.cdr_id) == ("open", None)
        with uow() as u:  # nor is it charged on that reservation's trunk
            assert u.session.scalars(select(Cdr.trunk_id)).one() is None


class TestBatchTrunks:
    def test_each_cdr_of_a_batch_gets_the_trunk_its_own_reservation_was_made_for(
        self, uow: Uow
    ) -> None:
        """Master.csv names no trunk: each call is charged on the trunk Authorize
        offered it first, even when a batch holds calls of several trunks."""
        with uow() as u:
            spain = trunk(u, "spain", {"34": "0.0060"})
            route(u, "34", "lcr", [(spain, 0, 1)])
        for uniqueid, number in [("csv.1", SPAIN), ("csv.2", GERMANY)]:
            auth(uow, account="acct1001", uniqueid=uniqueid, number=number)
        calls = [
            cdr("csv.1", "acct1001", 60, dstchannel=""),
            cdr("csv.2", "acct1001", 60, dstchannel="", dst=GERMANY),
        ]
        with uow() as u:
            assert store_batch(u, calls) == [Outcome.RATED] * 2
        with uow() as u:
            trunks = {uid: t for uid, t in u.session.execute(select(Cdr.uniqueid, Cdr.trunk_id))}
        assert trunks == {"csv.1": spain, "csv.2": 1}


def provider_of(u: UnitOfWork, trunk_id: int) -> Provider:
    found = u.session.get(Trunk, trunk_id)
    assert found is not None
    provider = u.session.get(Provider, found.provider_id)
    assert provider is not None
    return provider


class TestBuyCost:
    def test_the_buy_cost_is_rated_at_the_moment_the_call_was_answered(self, uow: Uow) -> None:
        """The provider's price changes at noon; the call rang from 10 s before."""
        with uow() as u:
            carrier = trunk(u, "ans", {"49": "0.0100"})
            buy = RateSheet(owner_id=1, name="changes at noon", currency="USD")
            u.session.add(buy)
            u.session.flush()
            rates = [
                Rate(prefix="34", price=D("0.0100"), valid_to=NOON),
                Rate(prefix="34", price=D("0.0050"), valid_from=NOON),
            ]
            u.session.execute(
                insert(RateRow), [{"sheet_id": buy.id, **row_values(r)} for r in rates]
            )
            provider_of(u, carrier).buy_sheet_id = buy.id
            u.commit()
        call = cdr(
            "ans.1",
            "acct1001",
            60,
            start=NOON - timedelta(seconds=10),
            answer=NOON,
            end=NOON + timedelta(seconds=60),
            dstchannel="PJSIP/ans-00000001",
        )
        assert record(uow, call) is Outcome.RATED
        with uow() as u:
            costs = u.session.scalars(select(Charge.cost).where(Charge.provider_id.is_not(None)))
            assert list(costs) == [D("0.005")]

    def test_a_trunk_whose_buy_sheet_has_no_rate_for_the_call_says_so(
        self, uow: Uow, caplog: pytest.LogCaptureFixture
    ) -> None:
        with uow() as u:
            trunk(u, "germanonly", {"49": "0.0010"})
        rec = cdr("w.1", "acct1001", 60, dstchannel="PJSIP/germanonly-00000001")
        with caplog.at_level(logging.WARNING, logger="services.credit.settlement"):
            assert record(uow, rec) is Outcome.RATED  # the customer is charged all the same
        (message,) = [m for m in caplog.messages if "no buy cost" in m]
        # the CDR, the trunk and why (rating's own words)
        why = f"no rate for {SPAIN} at {NOON.isoformat()}"
        assert message == f"CDR w.1: no buy cost at trunk germanonly: {why}"
        with uow() as u:
            assert (
                u.session.scalars(select(Charge).where(Charge.provider_id.is_not(None))).all() == []
            )


class TestWhoseCdr:
    """A CDR bills the account of its accountcode; without one (or with an unknown
    one), SettleCall's named account, else the account whose reservation the channel
    holds. An account named in a CDR that did not come through SettleCall is not
    trusted (anything can put a field in an AMI event)."""

    def billed(self, uow: Uow, uniqueid: str) -> int | None:
        with uow() as u:
            return u.session.scalars(select(Cdr.account_id).where(Cdr.uniqueid == uniqueid)).one()

    def test_a_cdr_without_accountcode_bills_the_account_its_channel_reserved_for(
        self, uow: Uow
    ) -> None:
        auth(uow, account="acct1001", uniqueid="nocode.1")
        assert record(uow, cdr("nocode.1", "", 60)) is Outcome.RATED
        assert self.billed(uow, "nocode.1") == ALICE_ID
        assert {r.status for r in reservations(uow, ALICE_ID)} == {"settled"}

    def test_an_unknown_accountcode_falls_back_to_the_channels_reservation(self, uow: Uow) -> None:
        auth(uow, account="acct1002", uniqueid="typo.1")  # Bob's call
        assert record(uow, cdr("typo.1", "acct-typo", 60)) is Outcome.RATED
        assert self.billed(uow, "typo.1") == BOB_ID

    def test_an_unknown_accountcode_is_looked_up_once(self, uow: Uow) -> None:
        # Pricing looks the accountcode up; the fall-back to the channel's reservation
        # does not ask for it again.
        auth(uow, account="acct1002", uniqueid="typo.2")
        asked: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            if "accounts.accountcode =" in statement:
                asked.append(statement)

        with uow() as u:
            engine = u.session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert record(uow, cdr("typo.2", "acct-typo", 60)) is Outcome.RATED
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(asked) == 1, asked
        assert self.billed(uow, "typo.2") == BOB_ID

    def test_settle_call_bills_the_account_it_names_even_without_an_accountcode(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            plain = customer(u, "No code", credit=D(5))  # no accountcode, no SIP peer
        with uow() as u:
            done = settle_call(
                u,
                ADMIN,
                SettleCommand(uniqueid="named.1", billsec=60, account_id=plain, number=SPAIN),
            )
        assert (done.outcome, done.account_id) == ("rated", plain)
        assert self.billed(uow, "named.1") == plain

    def test_an_account_named_in_an_ami_cdr_is_not_trusted(self, uow: Uow) -> None:
        rec = cdr("forged.1", "", 60, extra={ACCOUNT_FIELD: str(ALICE_ID)})
        assert record(uow, rec) is Outcome.UNRATED
        assert self.billed(uow, "forged.1") is None


class TestWhenThereIsABuyCost:
    """A buy-cost row for a rated, answered call that lasted (docs/credit_control.md)."""

    def buy_rows(self, uow: Uow) -> list[tuple[str, Decimal]]:
        with uow() as u:
            rows = u.session.execute(
                select(Cdr.uniqueid, Charge.cost)
                .join(Charge, Charge.cdr_id == Cdr.id)
                .where(Charge.provider_id.is_not(None))
                .order_by(Cdr.uniqueid)
            )
            return [(uid, cost) for uid, cost in rows]

    def test_a_one_second_call_has_one_and_an_answered_call_of_zero_seconds_none(
        self, uow: Uow
    ) -> None:
        assert record(uow, cdr("b.1", "acct1001", 1)) is Outcome.RATED
        zero = cdr("b.0", "acct1001", 0, disposition="ANSWERED", answer=NOON)
        record(uow, zero)
        assert self.buy_rows(uow) == [("b.1", D("0.0001"))]  # 0.0080 a minute, per second

    def test_a_call_the_customer_cannot_be_charged_for_has_no_buy_cost(self, uow: Uow) -> None:
        with uow() as u:
            trunk(u, "anywhere", {"99": "0.0100"})  # Alice's sheet has no 99
        rec = cdr("u.1", "acct1001", 60, dst="99123456", dstchannel="PJSIP/anywhere-00000001")
        assert record(uow, rec) is Outcome.UNRATED
        assert self.buy_rows(uow) == []


class TestRingGroupBatch:
    def test_the_first_cdr_of_a_channel_settles_it_and_the_batch_stays_on_its_fast_path(
        self, uow: Uow, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A ring group: two CDRs of one channel (Sequence 1 answered, 2 not) in one
        batch after a CDR with no reservation at all."""
        auth(uow, account="acct1001", uniqueid="rg.1")
        calls = [
            cdr("lone.1", "acct1001", 30),
            cdr("rg.1", "acct1001", 60, sequence=1),
            cdr("rg.1", "acct1001", 0, sequence=2),
        ]
        with caplog.at_level(logging.INFO, logger="services.cdr.batches"), uow() as u:
            assert store_batch(u, calls) == [Outcome.RATED, Outcome.RATED, Outcome.RATED]
        assert not [m for m in caplog.messages if "redone one by one" in m]
        with uow() as u:
            first = u.session.scalars(
                select(Cdr.id).where(Cdr.uniqueid == "rg.1", Cdr.sequence == 1)
            ).one()
        (held,) = reservations(uow, ALICE_ID)
        assert (held.status, held.cdr_id) == ("settled", first)


class TestLateCdrs:
    def test_a_late_cdr_keeps_its_expired_reservation_and_a_later_leg_does_not_take_it(
        self, uow: Uow
    ) -> None:
        """The reservation expired (no CDR within its slice plus 10 minutes); its CDR
        comes after all and is linked to it; a ring group's other leg, later still, is
        charged but leaves the reservation with the first CDR."""
        auth(uow, account="acct1001", uniqueid="exp.1")
        with uow() as u:
            assert expire_due(u.session, NOON + timedelta(hours=4)) == 1
            u.commit()
        assert record(uow, cdr("exp.1", "acct1001", 60, sequence=1)) is Outcome.RATED
        assert record(uow, cdr("exp.1", "acct1001", 0, sequence=2)) is Outcome.RATED
        with uow() as u:
            first = u.session.scalars(
                select(Cdr.id).where(Cdr.uniqueid == "exp.1", Cdr.sequence == 1)
            ).one()
        (held,) = reservations(uow, ALICE_ID)
        assert (held.status, held.cdr_id) == ("expired", first)


class TestWhichTrunkCarriedIt:
    """The CDR's Trunk field, else the trunk its destination channel names (by name, or
    by a dial string ending in @peer; a Local channel's context), else the reservation's
    (docs/credit_control.md, Settlement)."""

    def carried(self, uow: Uow, uniqueid: str, **fields: object) -> int | None:
        assert record(uow, cdr(uniqueid, "acct1001", 60, **fields)) is Outcome.RATED
        with uow() as u:
            return u.session.scalars(select(Cdr.trunk_id).where(Cdr.uniqueid == uniqueid)).one()

    def test_the_trunk_field_then_the_channel_by_name_dial_string_or_local_context(
        self, uow: Uow
    ) -> None:
        with uow() as u:
            spain = trunk(u, "spain", {"34": "0.0060"})
            gateway = trunk(u, "gateway", {"34": "0.0060"})
            found = u.session.get(Trunk, gateway)
            assert found is not None
            found.dial_string = "SIP/${NUMBER}@gw7"
            u.commit()
        channel = "PJSIP/carrier1-00000002"
        assert self.carried(uow, "t.1", dstchannel=channel, extra={"Trunk": " spain "}) == spain
        assert self.carried(uow, "t.2", dstchannel=channel, extra={"Trunk": "nope"}) == 1
        assert self.carried(uow, "t.3", dstchannel="SIP/gw7-0000000a") == gateway
        # by its name too, whatever its dial string ends in
        assert self.carried(uow, "t.7", dstchannel="PJSIP/gateway-0000000d") == gateway
        local = "Local/34911234567@spain-0000001b;1"
        assert self.carried(uow, "t.4", dstchannel=local) == spain
        assert self.carried(uow, "t.5", dstchannel="SIP/unknown-0000000b") is None
        # Only a Local channel names its trunk after an `@`: a peer called `alice@spain`
        # is no trunk (and not the trunk `spain`).
        assert self.carried(uow, "t.6", dstchannel="SIP/alice@spain-0000000c") is None


class TestTrunkOfAChannel:
    """`trunk_of_channel`: the trunk a channel's own peer names (on-net pricing asks it
    of the calling channel: a carrier's call in is no on-net call). The same rule as the
    destination channel's in `TestWhichTrunkCarriedIt`, with no Trunk field to go by."""

    def dialled(self, uow: Uow, name: str, dial_string: str) -> int:
        """A trunk of its own named `name`, dialled by `dial_string`."""
        with uow() as u:
            trunk_id = trunk(u, name, {"34": "0.0060"})
            found = u.session.get(Trunk, trunk_id)
            assert found is not None
            found.dial_string = dial_string
            u.commit()
        return trunk_id

    def of(self, uow: Uow, channel: str) -> int | None:
        with uow() as u:
            found = trunk_of_channel(u.session, channel)
            return None if found is None else found.id

    def test_a_channel_names_its_trunk_by_name_or_dial_string_and_a_phone_none(
        self, uow: Uow
    ) -> None:
        gateway = self.dialled(uow, "gateway", "SIP/${NUMBER}@gw7")
        of = functools.partial(self.of, uow)
        assert of("PJSIP/carrier1-00000002") == 1  # the demo's trunk, by its name
        assert of(" PJSIP/carrier1-00000002\n") == 1
        assert of("SIP/gw7-0000000a") == gateway  # by the end of its dial string
        assert of("PJSIP/1001-00000001") is None  # a phone: no trunk is called that
        assert of("carrier1") is None  # not a channel name at all
        assert of("") is None

    def test_inside_a_batch_each_channel_keeps_its_own_answer(self, uow: Uow) -> None:
        # A batch remembers each channel's trunk (services/credit/cdr_batch.py): a
        # carrier's channel and a phone's, in either order, each get their own answer.
        for channels in (
            ("PJSIP/carrier1-00000002", "PJSIP/1001-00000001"),
            ("PJSIP/1001-00000001", "PJSIP/carrier1-00000002"),
        ):
            with uow() as u, cdr_batch.batch(u.session, []):
                found = [trunk_of_channel(u.session, c) for c in channels]
                again = [trunk_of_channel(u.session, c) for c in channels]
                ids = [None if t is None else t.id for t in found]
            assert ids == [1 if "carrier1" in c else None for c in channels]
            assert again == found

    def test_a_peer_with_like_wildcards_or_another_case_names_no_other_trunk(
        self, uow: Uow
    ) -> None:
        """The one-CDR path compares a peer exactly, as the batch path (`match_trunk`)
        does: `_` and `%` in a peer are no wildcards, and SQLite's LIKE ignoring case
        does not make `GWX7` the trunk dialled `...@gwX7`."""
        gateway = self.dialled(uow, "gateway", "SIP/${NUMBER}@gwX7")
        under = self.dialled(uow, "under", "SIP/${NUMBER}@gw_8")
        of = functools.partial(self.of, uow)
        assert of("SIP/gwX7-0000000a") == gateway
        assert of("SIP/gw_7-0000000a") is None  # `_` is no wildcard: not `gwX7`
        assert of("SIP/gw%-0000000a") is None  # nor `%`
        assert of("SIP/GWX7-0000000a") is None  # another case is another peer
        assert of("SIP/gw_8-0000000a") == under  # a real `_` still matches itself
