"""What each tax line of an invoice says (rating/taxes.py, docs/invoices.md): its own
name and rate, and a base that only a compound tax widens with the taxes before it."""

from __future__ import annotations

from decimal import Decimal

from rating.taxes import Tax, TaxAmount, apply_taxes

D = Decimal


class TestTaxLines:
    def test_a_plain_tax_after_another_is_charged_on_the_net_alone(self) -> None:
        state, city = Tax("State", D("0.06")), Tax("City", D("0.02"))
        taxed = apply_taxes(D("100"), (state, city), inclusive=False)
        assert taxed.taxes == (
            TaxAmount("State", D("0.06"), D("100"), D("6.00")),
            TaxAmount("City", D("0.02"), D("100"), D("2.00")),
        )
        assert taxed.total == D("108.00")

    def test_each_line_keeps_its_name_and_rate_with_inclusive_prices(self) -> None:
        gst, qst = Tax("GST", D("0.05")), Tax("QST", D("0.09975"), compound=True)
        taxed = apply_taxes(D("115.47"), (gst, qst), inclusive=True)
        assert [(t.name, t.rate) for t in taxed.taxes] == [
            ("GST", D("0.05")),
            ("QST", D("0.09975")),
        ]
        assert taxed.net + taxed.tax == D("115.47")
