"""bands.edge_instants: the instants strictly after `after` and strictly before `until`
at which the zone's wall clock shows a band edge (its docstring). The engine stops at a
call's end by itself, so only a direct test pins the end bound."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from rating.bands import edge_instants

MADRID = ZoneInfo("Europe/Madrid")  # UTC+1 in December


def test_an_edge_at_either_bound_is_left_out() -> None:
    edges = (time(8), time(18))
    at_eight = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 08:00 in Madrid
    at_six = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # 18:00 in Madrid
    assert list(edge_instants(edges, at_eight, at_six, MADRID)) == []
    later = datetime(2026, 12, 3, 7, 0, 1, tzinfo=UTC)
    assert list(edge_instants(edges, at_eight, later, MADRID)) == [
        at_six,
        datetime(2026, 12, 3, 7, 0, tzinfo=UTC),
    ]
