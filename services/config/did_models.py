"""Wire types of the DID inventory (urn:siptar:config): what the admin sees, costs
included (resellers never see the provider's costs)."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Unicode

from services.common.wire import Money, UtcDateTime
from services.config.models import TNS

DidStatus = Unicode(
    values=["free", "assigned", "quarantine"], type_name="DidStatus", __namespace__=TNS
)


class DidInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    number = Unicode
    provider_id = Integer
    status = Unicode
    account_id = Integer
    subscription_id = Integer
    free_after = UtcDateTime
    destination_kind = Unicode
    destination = Unicode
    setup_cost = Money
    monthly_cost = Money
    inbound_cost = Money
    setup_fee = Money
    monthly_fee = Money
    inbound_price = Money


class NewDid(ComplexModel):
    __namespace__ = TNS
    number = Unicode(min_occurs=1, nillable=False, min_len=3, max_len=33)
    provider_id = Integer(min_occurs=1, nillable=False)
    setup_cost = Money
    monthly_cost = Money
    inbound_cost = Money
    setup_fee = Money
    monthly_fee = Money
    inbound_price = Money


class DidChanges(ComplexModel):
    """Only the fields sent are changed."""

    __namespace__ = TNS
    setup_cost = Money
    monthly_cost = Money
    inbound_cost = Money
    setup_fee = Money
    monthly_fee = Money
    inbound_price = Money
    # The provider the DID is bought from now (not a retired one): its cost rows of
    # later periods and inbound calls name it; rows charged already keep theirs.
    provider_id = Integer


class DidPage(ComplexModel):
    __namespace__ = TNS
    items = DidInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
