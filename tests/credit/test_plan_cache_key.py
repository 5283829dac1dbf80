"""PlanCache keys its plans by database too (one process may serve several): the
engine's URL as text, rendered once per engine, not on every look-up (rendering a URL
cost more than the rest of a cached look-up, on every Authorize, CDR and quote)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import URL

from db.rates import plans
from db.session import UnitOfWork
from tests.credit.builders import RESELLER_RETAIL

pytestmark = pytest.mark.usefixtures("demo")


def test_a_cached_look_up_renders_no_url(
    uow: Callable[[], UnitOfWork], monkeypatch: pytest.MonkeyPatch
) -> None:
    with uow() as u:
        first = plans.plan(u.session, RESELLER_RETAIL)
    rendered: list[str] = []
    real = URL.render_as_string

    def counted(self: URL, hide_password: bool = True) -> str:
        rendered.append("x")
        return real(self, hide_password=hide_password)

    monkeypatch.setattr(URL, "render_as_string", counted)
    with uow() as u:
        for _ in range(5):
            assert plans.plan(u.session, RESELLER_RETAIL) is first
        assert plans.plans(u.session, [RESELLER_RETAIL])[RESELLER_RETAIL] is first
    assert rendered == []
