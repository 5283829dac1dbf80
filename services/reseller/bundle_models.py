"""Wire types of bundles for the levels that sell them (urn:siptar:reseller)."""

from __future__ import annotations

from spyne import Boolean, ComplexModel, Date, Integer, Unicode

from services.reseller.models import TNS

BundleUnit = Unicode(values=["seconds", "calls"], type_name="BundleUnit", __namespace__=TNS)
BundlePeriod = Unicode(
    values=["daily", "weekly", "monthly"], type_name="BundlePeriod", __namespace__=TNS
)
# Named in the service's namespace: without one spyne puts it in a namespace of its own,
# whose prefix in the WSDL (s0 or s1) changed from one process to the next.
Prefix = Unicode(
    min_len=1, max_len=20, pattern="[0-9]+", type_name="BundlePrefix", __namespace__=TNS
)


class NewBundle(ComplexModel):
    __namespace__ = TNS
    name = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128)
    unit = BundleUnit  # default seconds
    quantity = Integer(min_occurs=1, nillable=False, ge=1, le=10**9)  # per period
    period = BundlePeriod  # default monthly
    # The destinations it covers, by prefix; none: every destination.
    prefixes = Prefix.customize(max_occurs=1000, __namespace__=TNS)
    per_second = Boolean  # free time counted by the second, not at the rate's increments
    carry_over = Boolean  # unused units move to the next period (at most one period's)
    inbound = Boolean  # also covers calls to the account's DIDs
    service_id = Integer  # its price: holding the bundle subscribes to this service


class BundleInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    owner_id = Integer
    name = Unicode
    unit = Unicode
    quantity = Integer
    period = Unicode
    prefixes = Unicode.customize(max_occurs="unbounded")
    per_second = Boolean
    carry_over = Boolean
    inbound = Boolean
    service_id = Integer


class BundlePage(ComplexModel):
    __namespace__ = TNS
    items = BundleInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class AccountBundleInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    account_id = Integer
    bundle_id = Integer
    name = Unicode
    position = Integer  # consumed in ascending order
    start = Date
    end = Date  # the first day without it; empty: open
    subscription_id = Integer


class AccountBundlePage(ComplexModel):
    __namespace__ = TNS
    items = AccountBundleInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
