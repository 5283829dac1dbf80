"""Wire types of providers, trunks and routes (urn:siptar:config)."""

from __future__ import annotations

from spyne import Boolean, ComplexModel, Integer, Unicode

from services.common.wire import Money
from services.config.models import TNS

Name = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128)


class ProviderInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    name = Unicode
    buy_sheet_id = Integer
    status = Unicode


class ProviderList(ComplexModel):
    __namespace__ = TNS
    items = ProviderInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class NewTrunk(ComplexModel):
    __namespace__ = TNS
    provider_id = Integer(min_occurs=1, nillable=False)
    name = Name
    dial_string = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=255)
    channel_limit = Integer(ge=0)
    # The provider's SIP host: with one, the trunk is provisioned to Asterisk.
    sip_host = Unicode(max_len=255)


class TrunkInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    provider_id = Integer
    name = Unicode
    dial_string = Unicode
    channel_limit = Integer
    status = Unicode
    sip_host = Unicode


class TrunkList(ComplexModel):
    __namespace__ = TNS
    items = TrunkInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class RouteTrunk(ComplexModel):
    __namespace__ = TNS
    trunk_id = Integer(min_occurs=1, nillable=False)
    priority = Integer(ge=0)
    weight = Integer(ge=1)


class NewRoute(ComplexModel):
    __namespace__ = TNS
    prefix = Unicode(max_len=32)
    name = Unicode(max_len=128)
    strategy = Unicode(values=["lcr", "priority", "balance", "quality"])
    allow_loss = Boolean
    trunks = RouteTrunk.customize(max_occurs=100)


class RouteInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    prefix = Unicode
    name = Unicode
    strategy = Unicode
    allow_loss = Boolean
    status = Unicode
    trunks = RouteTrunk.customize(max_occurs="unbounded")


class RouteList(ComplexModel):
    __namespace__ = TNS
    items = RouteInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class RoutedTrunk(ComplexModel):
    __namespace__ = TNS
    trunk_id = Integer
    name = Unicode
    provider_id = Integer
    provider = Unicode
    dial_string = Unicode
    buy_cost = Money
    channel_limit = Integer
    channels_in_use = Integer
    excluded = Unicode  # empty when the trunk is offered; else why it is left out


class RouteTest(ComplexModel):
    __namespace__ = TNS
    route_id = Integer
    prefix = Unicode
    strategy = Unicode
    allow_loss = Boolean
    sell_cost = Money
    trunks = RoutedTrunk.customize(max_occurs="unbounded")


Status = Unicode(values=["active", "disabled", "retired"])


class ProviderChanges(ComplexModel):
    """Only the fields sent are changed."""

    __namespace__ = TNS
    name = Unicode(min_len=1, max_len=128)
    buy_sheet_id = Integer
    status = Status


class TrunkChanges(ComplexModel):
    """Only the fields sent are changed; `clear_channel_limit` removes the limit."""

    __namespace__ = TNS
    name = Unicode(min_len=1, max_len=128)
    dial_string = Unicode(min_len=1, max_len=255)
    channel_limit = Integer(ge=0)
    clear_channel_limit = Boolean
    sip_host = Unicode(max_len=255)
    status = Status


class RouteChanges(ComplexModel):
    """Only the fields sent are changed; `trunks`, when sent (with `set_trunks`, so
    that an empty list can be sent), replace the route's trunks."""

    __namespace__ = TNS
    prefix = Unicode(max_len=32)
    name = Unicode(max_len=128)
    strategy = Unicode(values=["lcr", "priority", "balance", "quality"])
    allow_loss = Boolean
    status = Status
    set_trunks = Boolean
    trunks = RouteTrunk.customize(max_occurs=100)


class TrunkStatus(ComplexModel):
    __namespace__ = TNS
    trunk_id = Integer
    name = Unicode
    status = Unicode
    channel_limit = Integer
    calls_up = Integer  # live calls on it now (the AMI listener's)
    channels_held = Integer  # open reservations with it first: what the limit counts
    calls_last_hour = Integer
    answered_last_hour = Integer
    asr = Money  # per cent, last hour
    acd = Money  # seconds, last hour
    cost_today = Money  # owed to its provider for calls started since 00:00 UTC
