"""Wire types of the Configuration Manager (urn:siptar:config)."""

from __future__ import annotations

from spyne import ComplexModel, Integer, Time, Unicode

from services.common.wire import Money, UtcDateTime

TNS = "urn:siptar:config"


class RateSheetInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    name = Unicode
    currency = Unicode
    decimals = Integer
    rounding = Unicode
    block_mode = Unicode
    timezone = Unicode
    version = Integer
    rate_count = Integer


class NewRateSheet(ComplexModel):
    __namespace__ = TNS
    name = Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128)
    currency = Unicode(max_len=3, pattern="[A-Za-z]{3}")
    decimals = Integer(ge=0, le=6)
    rounding = Unicode(values=["half_up", "up", "down"])
    block_mode = Unicode(values=["first_block", "whole_call"])
    timezone = Unicode(max_len=64)


class RateSheetList(ComplexModel):
    __namespace__ = TNS
    items = RateSheetInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class ImportResult(ComplexModel):
    __namespace__ = TNS
    sheet_id = Integer
    imported = Integer
    removed = Integer
    version = Integer


class RateInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    prefix = Unicode
    destination = Unicode
    price = Money
    tiers = Unicode
    initial_increment = Integer
    increment = Integer
    connect_fee = Money
    included_seconds = Integer
    free_below = Integer
    min_cost = Money
    max_cost = Money
    weekdays = Unicode
    time_from = Time
    time_to = Time
    holidays = Unicode  # the holiday calendar of a holiday band, or ""
    valid_from = UtcDateTime
    valid_to = UtcDateTime


class RatePage(ComplexModel):
    __namespace__ = TNS
    items = RateInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class SheetChanges(ComplexModel):
    """What UpdateRateSheet changes; a field left out stays as it is."""

    __namespace__ = TNS
    name = Unicode(min_len=1, max_len=128)
    decimals = Integer(ge=0, le=6)
    rounding = Unicode(values=["half_up", "up", "down"])
    block_mode = Unicode(values=["first_block", "whole_call"])
    timezone = Unicode(max_len=64)
    # From when a change of decimals, rounding, block mode or time zone applies (to
    # calls that start at or after it); default now, never in the past.
    effective_from = UtcDateTime


class SheetRuleInfo(ComplexModel):
    __namespace__ = TNS
    effective_from = UtcDateTime  # nil for the sheet's first rule: every earlier call
    decimals = Integer
    rounding = Unicode
    block_mode = Unicode
    timezone = Unicode


class SheetRules(ComplexModel):
    __namespace__ = TNS
    sheet = RateSheetInfo
    rules = SheetRuleInfo.customize(max_occurs="unbounded")
