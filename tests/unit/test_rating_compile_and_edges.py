"""Two engine rules the unit tests did not reach (rating/plan.py, rating/compile.py,
docs/rates.md): a second belongs to the band it starts in, to the microsecond of a
call's start, and a compact plan refuses a rate with a field of the wrong type as the
dict plan does."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from rating import CallToRate, InvalidInput, Rate, RateSheet, compile_sheet

D = Decimal
DAY = Rate("34", "Spain day", D("0.60"), time_from=time(8), time_to=time(18))
EVENING = Rate("34", "Spain evening", D("0.06"), time_from=time(18), time_to=time(8))


class TestABandEdgeInsideASecond:
    @pytest.mark.parametrize("compact", [False, True])
    def test_the_second_that_begins_before_the_edge_is_the_old_bands(self, compact: bool) -> None:
        plan = compile_sheet(RateSheet("s", (DAY, EVENING)), compact=compact)
        # 2.000001 s before 18:00: seconds 0, 1 and 2 begin before the edge
        start = datetime(2026, 11, 23, 17, 59, 57, 999_999, tzinfo=UTC)
        cost = plan.rate_call(CallToRate("34911", start, 10))
        assert [(p.start_second, p.seconds, p.price) for p in cost.parts] == [
            (0, 3, D("0.60")),
            (3, 7, D("0.06")),
        ]
        assert cost.cost == D("0.0370")  # 3 s at 0.60 + 7 s at 0.06 a minute

    def test_a_start_just_past_a_whole_second_before_the_edge(self) -> None:
        plan = compile_sheet(RateSheet("s", (DAY, EVENING)))
        start = datetime(2026, 11, 23, 17, 59, 50, 1, tzinfo=UTC)  # 9.999999 s before
        cost = plan.rate_call(CallToRate("34911", start, 20))
        assert [(p.start_second, p.seconds) for p in cost.parts] == [(0, 10), (10, 10)]


class TestCompactPlanRefusesWhatTheDictPlanRefuses:
    def test_a_field_of_the_wrong_type_is_named(self) -> None:
        bad = Rate("44", "UK", D("0.1"), weekdays=[0, 1])  # type: ignore[arg-type]
        sheet = RateSheet("deck", (Rate("34", "Spain", D("0.1")), bad))
        messages = []
        for compact in (False, True):
            with pytest.raises(InvalidInput) as error:
                compile_sheet(sheet, compact=compact)
            messages.append(str(error.value))
        assert messages[0] == messages[1]
        assert messages[1].startswith("sheet 'deck', rate '44': weekdays: ")
