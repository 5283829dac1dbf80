"""Wire types of services, subscriptions and DIDs for resellers (urn:siptar:reseller).
No provider cost is ever shown here: that is the operator's business."""

from __future__ import annotations

from spyne import ComplexModel, Date, Integer, Unicode

from services.common.wire import Money, UtcDateTime
from services.reseller.models import TNS

Period = Unicode(
    values=["daily", "weekly", "monthly", "yearly"], type_name="Period", __namespace__=TNS
)
UnpaidPolicy = Unicode(values=["suspend", "negative"], type_name="UnpaidPolicy", __namespace__=TNS)
DestinationKind = Unicode(
    values=["peer", "extension", "external"], type_name="DestinationKind", __namespace__=TNS
)


class NewService(ComplexModel):
    __namespace__ = TNS
    name = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128)
    period = Period
    price = Money
    setup_fee = Money
    unpaid_policy = UnpaidPolicy
    provider_id = Integer  # the admin's only: the provider whose cost the service carries
    cost_price = Money
    cost_setup = Money


class ServiceChanges(ComplexModel):
    """Only the fields sent change; periods charged already keep their amounts."""

    __namespace__ = TNS
    name = Unicode(min_len=1, max_len=128)
    unpaid_policy = UnpaidPolicy


class ServiceInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    owner_id = Integer
    name = Unicode
    period = Unicode
    unpaid_policy = Unicode
    # The caller's own selling price (or the nearest one above it, if it set none).
    price = Money
    setup_fee = Money
    # What the caller pays for it per period and at setup (its nearest seller's
    # price above it); empty for the caller's own services, which it pays nothing for.
    buy_price = Money
    buy_setup_fee = Money


class ServicePage(ComplexModel):
    __namespace__ = TNS
    items = ServiceInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class SubscriptionInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    account_id = Integer
    service_id = Integer
    did_id = Integer
    start = Date
    end = Date
    billing_day = Integer
    status = Unicode
    charged_through = Date


class SubscriptionPage(ComplexModel):
    __namespace__ = TNS
    items = SubscriptionInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class AvailableDid(ComplexModel):
    __namespace__ = TNS
    id = Integer
    number = Unicode
    status = Unicode
    account_id = Integer
    destination_kind = Unicode
    destination = Unicode
    free_after = UtcDateTime
    # What the caller's level below pays (the caller's own price, or its seller's).
    setup_fee = Money
    monthly_fee = Money
    inbound_price = Money


class AvailableDidPage(ComplexModel):
    __namespace__ = TNS
    items = AvailableDid.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
