"""Invoice taxes: exclusive and inclusive prices, compound taxes, one rounding per invoice."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rating.taxes import Tax, apply_taxes

D = Decimal
VAT = Tax("VAT", D("0.21"))


class TestApplyTaxes:
    def test_exclusive_prices_get_the_tax_on_top_rounded_once_per_invoice(self) -> None:
        # Three lines of 0.333333 each taxed one by one would give 3 x 0.07 = 0.21.
        taxed = apply_taxes(D("0.999999"), (VAT,), inclusive=False)
        assert (taxed.net, taxed.tax, taxed.total) == (D("0.999999"), D("0.21"), D("1.209999"))

    def test_inclusive_prices_take_the_tax_out_and_keep_the_gross(self) -> None:
        taxed = apply_taxes(D("121.00"), (VAT,), inclusive=True)
        assert (taxed.net, taxed.tax, taxed.total) == (D("100.00"), D("21.00"), D("121.00"))

    def test_a_compound_tax_is_charged_on_the_net_plus_the_taxes_before_it(self) -> None:
        gst, qst = Tax("GST", D("0.05")), Tax("QST", D("0.1"), compound=True)
        taxed = apply_taxes(D("100"), (gst, qst), inclusive=False)
        assert [(t.base, t.amount) for t in taxed.taxes] == [
            (D("100"), D("5.00")),
            (D("105.00"), D("10.50")),
        ]
        assert taxed.total == D("115.50")
        back = apply_taxes(D("115.50"), (gst, qst), inclusive=True)
        assert (back.net, back.tax) == (D("100.00"), D("15.50"))

    def test_no_tax_leaves_the_amount_alone(self) -> None:
        for inclusive in (True, False):
            taxed = apply_taxes(D("12.345678"), (), inclusive=inclusive)
            assert (taxed.net, taxed.tax) == (D("12.345678"), 0)

    @given(
        st.decimals(min_value=0, max_value=10**9, places=6),
        st.lists(st.tuples(st.decimals(0, D("0.5"), places=4), st.booleans()), max_size=3),
    )
    def test_inclusive_net_plus_taxes_is_the_gross_exactly(
        self, gross: Decimal, rates: list[tuple[Decimal, bool]]
    ) -> None:
        taxes = tuple(Tax(f"T{i}", r, c) for i, (r, c) in enumerate(rates))
        taxed = apply_taxes(gross, taxes, inclusive=True)
        assert taxed.total == gross
        assert all(t.amount == t.amount.quantize(D("0.01")) for t in taxed.taxes)
