"""The slice and minimum-call rules of services/credit/policy.py (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rating.model import Rate, Tier
from services.credit.policy import (
    CreditPolicy,
    extend_ahead,
    extension_target,
    first_slice,
)
from settings import Settings


@dataclass
class Overrides:
    credit_slice_seconds: int | None = None
    min_call_seconds: int | None = None


PER_SECOND = Rate(prefix="34", price=Decimal("0.6"))
PER_MINUTE = Rate(prefix="34", price=Decimal("0.6"), initial_increment=60, increment=60)
TIERED = Rate(prefix="34", tiers=(Tier(0, Decimal("1"), 45), Tier(45, Decimal("0.5"), 1)))


class TestMinimumCall:
    def test_automatic_is_the_rates_first_block_and_at_least_30_s(self) -> None:
        auto = CreditPolicy()
        assert auto.min_call_for(Overrides(), PER_SECOND) == 30
        assert auto.min_call_for(Overrides(), PER_MINUTE) == 60
        assert auto.min_call_for(Overrides(), TIERED) == 45

    def test_the_global_setting_then_the_accounts_own_win(self) -> None:
        policy = CreditPolicy(min_call_seconds=10)
        assert policy.min_call_for(Overrides(), PER_MINUTE) == 10
        assert policy.min_call_for(Overrides(min_call_seconds=0), PER_MINUTE) == 0


class TestSlices:
    def test_the_accounts_slice_overrides_the_global_one(self) -> None:
        assert CreditPolicy(slice_seconds=300).slice_for(Overrides()) == 300
        assert CreditPolicy(slice_seconds=300).slice_for(Overrides(credit_slice_seconds=60)) == 60

    def test_the_first_slice_is_the_whole_call_when_shorter_or_slices_are_off(self) -> None:
        assert first_slice(10800, 300) == 300
        assert first_slice(120, 300) == 120
        assert first_slice(10800, 0) == 10800

    def test_an_extension_adds_a_slice_past_what_is_held_or_spent_up_to_the_max(self) -> None:
        assert (
            extension_target(reserved=300, elapsed=280, max_seconds=10800, slice_seconds=300) == 600
        )
        # the listener was late: the call ran past its slice
        assert (
            extension_target(reserved=300, elapsed=320, max_seconds=10800, slice_seconds=300) == 620
        )
        assert (
            extension_target(reserved=300, elapsed=280, max_seconds=400, slice_seconds=300) == 400
        )

    def test_extend_ahead_is_half_a_slice_between_5_s_and_a_minute(self) -> None:
        assert [extend_ahead(s) for s in (4, 30, 60, 300)] == [5, 15, 30, 60]

    def test_settings_from_the_environment(self) -> None:
        env = {"SIPTAR_CREDIT_SLICE_SECONDS": "120", "SIPTAR_MIN_CALL_SECONDS": "6"}
        policy = CreditPolicy.from_settings(Settings.from_env(env))
        assert policy == CreditPolicy(slice_seconds=120, min_call_seconds=6)
        assert CreditPolicy.from_settings(Settings()) == CreditPolicy(300, 0)
