"""A sheet's rule versions: each call is rated by the rule in force at its start."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from rating import BlockMode, CallToRate, Rate, RateSheet, Rounding, SheetRule, compile_sheet
from rating.errors import InvalidInput

D = Decimal
MOMENT = datetime(2026, 6, 1, 12, tzinfo=UTC)
# DESIGN's example: 46 s at 0.10/min on 45/60 is 0.1750 (first_block), 0.1000 (whole_call).
RATE = Rate("34", "Spain", price=D("0.10"), initial_increment=45, increment=60)


def _sheet(*rules: SheetRule, rates: tuple[Rate, ...] = (RATE,)) -> RateSheet:
    return RateSheet("s", rates, rules=rules)


def _rule(at: datetime, **changes: object) -> SheetRule:
    fields: dict[str, object] = {
        "decimals": 4,
        "rounding": Rounding.HALF_UP,
        "block_mode": BlockMode.FIRST_BLOCK,
        "timezone": "UTC",
    }
    fields.update(changes)
    return SheetRule(at, **fields)  # type: ignore[arg-type]


def _cost(sheet: RateSheet, start: datetime, billsec: int = 46) -> Decimal:
    return compile_sheet(sheet).rate_call(CallToRate("3412", start, billsec)).cost


class TestRuleVersions:
    def test_a_call_before_the_moment_keeps_the_old_rule_and_one_at_it_takes_the_new(
        self,
    ) -> None:
        sheet = _sheet(_rule(MOMENT, block_mode=BlockMode.WHOLE_CALL))
        assert _cost(sheet, MOMENT.replace(hour=11, minute=59, second=59)) == D("0.1750")
        assert _cost(sheet, MOMENT) == D("0.1000")

    def test_a_call_that_starts_before_and_ends_after_the_moment_is_rated_by_its_start(
        self,
    ) -> None:
        sheet = _sheet(_rule(MOMENT, block_mode=BlockMode.WHOLE_CALL))
        assert _cost(sheet, MOMENT.replace(hour=11, minute=59, second=40)) == D("0.1750")

    def test_rounding_and_decimals_change_from_their_moment(self) -> None:
        rate = Rate("34", price=D("0.0333"), initial_increment=1, increment=1)
        later = MOMENT.replace(month=7)
        sheet = _sheet(
            _rule(MOMENT, decimals=2, rounding=Rounding.UP),
            _rule(later, decimals=1, rounding=Rounding.DOWN),
            rates=(rate,),
        )
        # 61 s at 0.0333/min = 0.033855 exactly
        assert _cost(sheet, MOMENT.replace(month=5), 61) == D("0.0339")
        assert _cost(sheet, MOMENT, 61) == D("0.04")
        assert _cost(sheet, later, 61) == D("0.0")

    def test_a_time_zone_version_reads_the_bands_in_the_new_zone(self) -> None:
        # A band 08:00-18:00 local: 07:00 UTC is in it in Madrid (summer, +2), not in UTC.
        peak = Rate("34", price=D("1"), time_from=time(8), time_to=time(18))
        rest = Rate("34", price=D("0.5"))
        sheet = _sheet(_rule(MOMENT, timezone="Europe/Madrid"), rates=(peak, rest))
        plan = compile_sheet(sheet)
        assert plan.find_rate("34", MOMENT.replace(day=1, hour=7)).price == D("0.5")
        assert plan.find_rate("34", MOMENT.replace(day=2, hour=7)).price == D("1")

    def test_max_duration_follows_the_rule_of_the_start(self) -> None:
        plan = compile_sheet(_sheet(_rule(MOMENT, block_mode=BlockMode.WHOLE_CALL)))
        before = MOMENT.replace(hour=1)
        assert plan.max_duration("34", before, D("0.1")) == 45
        assert plan.max_duration("34", MOMENT, D("0.1")) == 60

    def test_at_names_the_version_and_a_sheet_without_versions_is_its_own(self) -> None:
        plan = compile_sheet(_sheet(_rule(MOMENT, decimals=2)))
        assert plan.at(MOMENT).sheet.decimals == 2
        assert plan.at(MOMENT.replace(hour=0)).sheet.decimals == 4
        plain = compile_sheet(_sheet())
        assert plain.at(MOMENT) is plain

    def test_versions_out_of_time_order_are_refused(self) -> None:
        with pytest.raises(InvalidInput, match="time order"):
            compile_sheet(_sheet(_rule(MOMENT), _rule(MOMENT)))

    def test_a_bad_rule_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="IANA"):
            compile_sheet(_sheet(_rule(MOMENT, timezone="Mars/Olympus")))
        with pytest.raises(InvalidInput, match="decimals"):
            compile_sheet(_sheet(_rule(MOMENT, decimals=9)))
        with pytest.raises(InvalidInput, match="aware"):
            compile_sheet(_sheet(_rule(MOMENT.replace(tzinfo=None))))
