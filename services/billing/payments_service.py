"""Billing Engine: adjustments, refunds, and the history of payments and the ledger.

Sign convention (docs/design.md, "Money"): `balance` is what the customer has; a ledger amount is
signed in the balance's direction: payments and refunds positive, call charges
negative, adjustments either. Acting on a child never changes your own balance.

Faults: Client.AuthenticationFailed, Client.AccessDenied (acting on your own
account), Client.NotFound (also outside your subtree), Client.InvalidInput,
Client.InsufficientCredit, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spyne import Boolean, ComplexModel, Integer, ServiceBase, Unicode, rpc

from db.schema import LedgerEntry
from services.billing import models, payment_reports
from services.billing import payments_usecases as uc
from services.billing.models import TNS
from services.common.app import request
from services.common.wire import (
    Auth,
    Limit,
    Money,
    Offset,
    UtcDateTime,
    answer_page,
    as_utc,
    money,
    report_asked,
    utc,
)

AccountId = Integer(min_occurs=1, nillable=False)


class LedgerPage(ComplexModel):
    __namespace__ = TNS
    items = models.LedgerEntry.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class PaymentReportLine(ComplexModel):
    __namespace__ = TNS
    key = Unicode
    count = Integer
    amount = Money


class PaymentReport(ComplexModel):
    __namespace__ = TNS
    group_by = Unicode
    count = Integer
    amount = Money
    lines = PaymentReportLine.customize(max_occurs="unbounded")


def entry_info(e: LedgerEntry) -> models.LedgerEntry:
    return models.LedgerEntry(
        id=e.id,
        account_id=e.account_id,
        kind=e.kind,
        amount=money(e.amount),
        balance_after=money(e.balance_after),
        reference=e.reference,
        created_at=utc(e.created_at),
    )


def _page(ctx: Any, flt: uc.HistoryFilter, offset: int | None, limit: int | None) -> LedgerPage:
    req = request(ctx)

    def fetch(first: int, count: int) -> tuple[list[LedgerEntry], int]:
        return uc.history(req.uow, req.caller, flt, first, count)

    return answer_page(LedgerPage, entry_info, fetch, offset, limit)


class PaymentsService(ServiceBase):
    __in_header__ = Auth

    @rpc(
        AccountId,
        Money(min_occurs=1, nillable=False),
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=255),
        _returns=models.LedgerEntry,
    )
    def AddAdjustment(ctx: Any, account_id: int, amount: Any, reference: str) -> Any:
        """A signed correction of the balance of an account below you (positive adds).
        It may not take a prepaid account below 0 nor a postpaid one below minus its
        credit limit (Client.InsufficientCredit)."""
        req = request(ctx)
        return entry_info(uc.adjust(req.uow, req.caller, account_id, amount, reference))

    @rpc(
        AccountId,
        Money(min_occurs=1, nillable=False),
        Integer,
        Unicode(max_len=255),
        _returns=models.LedgerEntry,
    )
    def Refund(
        ctx: Any, account_id: int, amount: Any, cdr_id: int | None, reference: str | None
    ) -> Any:
        """Give money back to an account below you (positive). With `cdr_id`, for that
        call: at most what it charged the account, less earlier refunds of it."""
        req = request(ctx)
        return entry_info(
            uc.refund(req.uow, req.caller, account_id, amount, cdr_id, reference or "")
        )

    @rpc(Integer, UtcDateTime, UtcDateTime, Offset, Limit, Boolean, _returns=LedgerPage)
    def ListPayments(
        ctx: Any,
        account_id: int | None,
        start: Any,
        end: Any,
        offset: Any,
        limit: Any,
        subtree: bool | None,
    ) -> LedgerPage:
        """Payments, refunds, adjustments and redeemed vouchers of an account (your own when empty),
        newest first, a page at a time; `end` is exclusive. With `subtree`: those of
        the account and of every account below it (each row names its account)."""
        flt = uc.HistoryFilter(
            account_id, uc.MONEY_KINDS, as_utc(start), as_utc(end), bool(subtree)
        )
        return _page(ctx, flt, offset, limit)

    @rpc(
        Integer,
        UtcDateTime(min_occurs=1, nillable=False),
        UtcDateTime(min_occurs=1, nillable=False),
        Unicode(values=list(payment_reports.GROUPS)),
        _returns=PaymentReport,
    )
    def GetPaymentReport(
        ctx: Any, account_id: int | None, period_start: Any, period_end: Any, group_by: str | None
    ) -> PaymentReport:
        """Payments, refunds and adjustments of an account (your own when empty) and
        its whole subtree in [period_start, period_end), counted and summed by `day`
        (UTC, the default), `account` or `kind`, with the total."""
        req = request(ctx)
        report = report_asked(account_id, period_start, period_end, group_by)
        lines = payment_reports.payment_report(req.uow, req.caller, report)
        return PaymentReport(
            group_by=report.group_by,
            count=sum(x.count for x in lines),
            amount=money(sum((x.amount for x in lines), Decimal(0))),
            lines=[
                PaymentReportLine(key=x.key, count=x.count, amount=money(x.amount)) for x in lines
            ],
        )

    @rpc(Integer, UtcDateTime, UtcDateTime, Offset, Limit, _returns=LedgerPage)
    def ListLedger(
        ctx: Any, account_id: int | None, start: Any, end: Any, offset: Any, limit: Any
    ) -> LedgerPage:
        """Every ledger row of an account (calls too), newest first, paged. The
        balance equals the sum of all its rows."""
        flt = uc.HistoryFilter(account_id, (), as_utc(start), as_utc(end))
        return _page(ctx, flt, offset, limit)
