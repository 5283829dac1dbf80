"""Billing Engine: balances, payments and the rate simulator.

Faults: Client.AuthenticationFailed, Client.NotFound, Client.AccessDenied,
Client.InvalidInput, Client.NoRateForDestination, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from services.billing import models, usecases
from services.common.app import request
from services.common.wire import Auth, Money, UtcDateTime, as_utc, money, utc

NonNegative = Integer(ge=0)


class BillingService(ServiceBase):
    __in_header__ = Auth

    @rpc(Integer, _returns=models.Balance)
    def GetBalance(ctx: Any, account_id: int | None) -> models.Balance:
        """The balance of an account: your own when account_id is empty. `available` is
        balance + credit limit (postpaid) - money reserved by calls in progress."""
        req = request(ctx)
        b = usecases.get_balance(req.uow, req.caller, account_id)
        return models.Balance(
            account_id=b.account_id,
            name=b.name,
            currency=b.currency,
            billing_type=b.billing_type,
            balance=money(b.balance),
            credit_limit=money(b.credit_limit),
            reserved=money(b.reserved),
            available=money(b.available),
        )

    @rpc(
        Integer(min_occurs=1, nillable=False),
        Money(min_occurs=1, nillable=False),
        Unicode(max_len=255),
        _returns=models.LedgerEntry,
    )
    def AddPayment(ctx: Any, account_id: int, amount: Any, reference: str | None) -> Any:
        """Credit a payment to an account below yours (a refill). Your own balance does
        not change. `amount` must be positive; returns the ledger entry."""
        req = request(ctx)
        e = usecases.add_payment(req.uow, req.caller, account_id, amount, reference or "")
        return models.LedgerEntry(
            id=e.id,
            account_id=e.account_id,
            kind=e.kind,
            amount=money(e.amount),
            balance_after=money(e.balance_after),
            reference=e.reference,
            created_at=utc(e.created_at),
        )

    @rpc(
        Integer,
        Integer,
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=40),
        UtcDateTime,
        NonNegative(min_occurs=1, nillable=False),
        _returns=models.CallQuote,
    )
    def QuoteCall(
        ctx: Any,
        sheet_id: int | None,
        account_id: int | None,
        number: str,
        start: Any,
        duration: int,
    ) -> models.CallQuote:
        """What a call to `number` starting at `start` (default now; without an offset,
        UTC) lasting `duration` billable seconds costs, by a rate sheet or by an
        account's sheet (your own when both are empty). By account, the account's
        bundles as they stand now cover what they can (`bundle_seconds`; `cost` is the
        paid rest); nothing is held or consumed."""
        req = request(ctx)
        q = usecases.quote_call(
            req.uow,
            req.caller,
            sheet_id=sheet_id,
            account_id=account_id,
            number=number,
            start=as_utc(start),
            duration=duration,
        )
        c = q.cost
        return models.CallQuote(
            sheet_id=q.sheet_id,
            currency=q.currency,
            prefix=c.prefix,
            destination=c.destination,
            billed_seconds=c.billed_seconds,
            cost=money(c.cost),
            exact_cost=money(c.exact_cost),
            parts=[
                models.QuotePart(
                    start_second=p.start_second,
                    seconds=p.seconds,
                    billed_seconds=p.billed_seconds,
                    price=money(p.price),
                    exact_cost=money(p.exact_cost),
                    band=p.band,
                )
                for p in c.parts
            ],
            account_currency=q.account_currency or None,
            account_cost=money(q.account_cost),
            bundle_seconds=q.bundle_seconds,
        )
