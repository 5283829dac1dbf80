"""Wire types of the operator's catalogue of services (urn:siptar:config): unlike the
reseller service's, they carry what the provider charges the operator."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Unicode

from services.common.wire import Money
from services.config.models import TNS

Period = Unicode(
    values=["daily", "weekly", "monthly", "yearly"], type_name="Period", __namespace__=TNS
)
UnpaidPolicy = Unicode(values=["suspend", "negative"], type_name="UnpaidPolicy", __namespace__=TNS)


class NewService(ComplexModel):
    __namespace__ = TNS
    name = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128)
    period = Period
    price = Money  # the admin's price for the level below it, per period
    setup_fee = Money
    unpaid_policy = UnpaidPolicy
    provider_id = Integer  # the provider whose cost the service carries
    cost_price = Money  # what that provider charges the operator per period
    cost_setup = Money


class ServiceChanges(ComplexModel):
    """Only the fields sent change; periods charged already keep their amounts."""

    __namespace__ = TNS
    name = Unicode(min_len=1, max_len=128)
    unpaid_policy = UnpaidPolicy
    provider_id = Integer
    cost_price = Money
    cost_setup = Money


class ServiceInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    owner_id = Integer
    name = Unicode
    period = Unicode
    unpaid_policy = Unicode
    provider_id = Integer
    cost_price = Money
    cost_setup = Money
    # What the owner sells it at to the level below it.
    price = Money
    setup_fee = Money


class ServicePage(ComplexModel):
    __namespace__ = TNS
    items = ServiceInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
