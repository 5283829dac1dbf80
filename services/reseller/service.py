"""Reseller Manager (admin and reseller logins): accounts of the caller's subtree.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound (also for
anything outside your subtree), Client.AlreadyExists, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from db.schema import Account
from rating.money import ZERO
from services.common.app import request
from services.common.wire import Auth, Limit, Offset, money, page_bounds, utc
from services.reseller import models, usecases


def _account_info(a: Account, username: str) -> models.AccountInfo:
    return models.AccountInfo(
        id=a.id,
        parent_id=a.parent_id,
        role=a.role,
        name=a.name,
        username=username,
        billing_type=a.billing_type,
        balance=money(a.balance),
        credit_limit=money(a.credit_limit),
        currency=a.currency,
        rate_sheet_id=a.rate_sheet_id,
        status=a.status,
        accountcode=a.accountcode,
        kind=a.kind,
        company_name=a.company_name,
        created_at=utc(a.created_at),
    )


class ResellerService(ServiceBase):
    __in_header__ = Auth

    @rpc(models.NewAccount.customize(min_occurs=1, nillable=False), _returns=models.AccountInfo)
    def CreateAccount(ctx: Any, account: models.NewAccount) -> models.AccountInfo:
        """Create a customer or reseller account below yours (or below `parent_id` in
        your subtree) with its login. `initial_credit` is booked as a payment; a
        prepaid account has no credit limit. Passwords have at least 8 characters."""
        req = request(ctx)
        cmd = usecases.NewAccount(
            name=account.name,
            username=account.username,
            password=account.password,
            role=account.role or "customer",
            parent_id=account.parent_id,
            billing_type=account.billing_type or "prepaid",
            credit_limit=account.credit_limit if account.credit_limit is not None else ZERO,
            initial_credit=account.initial_credit if account.initial_credit is not None else ZERO,
            rate_sheet_id=account.rate_sheet_id,
            accountcode=account.accountcode,
            kind=account.kind or "sip",
            company_name=account.company_name or "",
            currency=account.currency or "",
        )
        created, username = usecases.create_account(req.uow, req.caller, cmd)
        return _account_info(created, username)

    @rpc(Integer, _returns=models.AccountInfo)
    def GetAccount(ctx: Any, account_id: int | None) -> models.AccountInfo:
        """One account of your subtree; your own when account_id is empty."""
        req = request(ctx)
        return _account_info(*usecases.get_account(req.uow, req.caller, account_id))

    @rpc(Integer, Unicode(max_len=128), Offset, Limit, _returns=models.AccountPage)
    def ListAccounts(
        ctx: Any,
        parent_id: int | None,
        search: str | None,
        offset: int | None,
        limit: int | None,
    ) -> models.AccountPage:
        """The accounts of your subtree (not yourself), by id, a page at a time (limit
        1 to 1000, default 100); only the direct children of `parent_id` if given;
        only names containing `search` if given."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = usecases.list_accounts(
            req.uow,
            req.caller,
            parent_id=parent_id,
            search=search or "",
            offset=first,
            limit=count,
        )
        return models.AccountPage(
            items=[_account_info(a, u) for a, u in rows], total=total, offset=first
        )
