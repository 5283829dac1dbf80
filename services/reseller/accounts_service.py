"""Reseller Manager: changing accounts below you (admin and reseller logins; the admin
is the root of the tree, so these are also the admin's operations).

Faults: Client.AuthenticationFailed, Client.AccessDenied (a customer login, or acting
on your own account), Client.NotFound (also anything outside your subtree),
Client.AlreadyExists, Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Boolean, ByteArray, Integer, ServiceBase, Unicode, rpc

from db.schema import Account
from services.common.app import request
from services.common.wire import Auth, Limit, Offset, money, page_bounds, utc
from services.reseller import accounts_usecases as uc
from services.reseller import manager_models as m
from services.reseller.invoice_brand import InvoiceBrand
from services.reseller.transfer_service import _bytes

AccountId = Integer(min_occurs=1, nillable=False)
Reason = Unicode(max_len=255)


def account_details(a: Account) -> m.AccountDetails:
    return m.AccountDetails(
        id=a.id,
        parent_id=a.parent_id,
        role=a.role,
        name=a.name,
        billing_type=a.billing_type,
        balance=money(a.balance),
        credit_limit=money(a.credit_limit),
        currency=a.currency,
        rate_sheet_id=a.rate_sheet_id,
        status=a.status,
        status_reason=a.status_reason,
        accountcode=a.accountcode,
        kind=a.kind,
        max_concurrent_calls=a.max_concurrent_calls,
        max_call_seconds=a.max_call_seconds,
        company_name=a.company_name,
        lot_id=a.lot_id,
        pin=a.pin,
        created_at=utc(a.created_at),
    )


def _tech(a: Account) -> m.TechDetails:
    return m.TechDetails(
        account_id=a.id,
        sip_username=a.sip_username,
        sip_secret=None,  # never answered, to anybody: only its digest is stored
        accountcode=a.accountcode,
        allowed_dnis=a.allowed_dnis,
        sip_secret_set=bool(a.sip_md5_cred),
        sip_realm=a.sip_realm,
    )


class AccountsService(ServiceBase):
    __in_header__ = Auth

    @rpc(Integer, _returns=m.AccountDetails)
    def GetAccountDetails(ctx: Any, account_id: int | None) -> m.AccountDetails:
        """Every field of an account of your subtree (your own when empty), with its
        status reason, limits and PIN."""
        req = request(ctx)
        return account_details(uc.get_tech(req.uow, req.caller, account_id))

    @rpc(m.AccountFilter, Offset, Limit, _returns=m.AccountDetailsPage)
    def FindAccounts(
        ctx: Any, where: m.AccountFilter | None, offset: int | None, limit: int | None
    ) -> m.AccountDetailsPage:
        """The accounts of your subtree (not yourself) matching every field of `where`
        that is given, by id, a page at a time (limit 1 to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        w = where or m.AccountFilter()
        flt = uc.AccountFilter(
            status=w.status,
            role=w.role,
            kind=w.kind,
            billing_type=w.billing_type,
            lot_id=w.lot_id,
            search=w.search or "",
        )
        rows, total = uc.find_accounts(req.uow, req.caller, flt, first, count)
        return m.AccountDetailsPage(
            items=[account_details(a) for a in rows], total=total, offset=first
        )

    @rpc(
        AccountId,
        m.AccountUpdate.customize(min_occurs=1, nillable=False),
        _returns=m.AccountDetails,
    )
    def UpdateAccount(ctx: Any, account_id: int, changes: m.AccountUpdate) -> m.AccountDetails:
        """Change an account below you; fields left out stay. Prepaid accounts have no
        credit limit; a negative balance must be settled before turning prepaid."""
        req = request(ctx)
        cmd = uc.AccountChanges(
            name=changes.name,
            billing_type=changes.billing_type,
            credit_limit=changes.credit_limit,
            kind=changes.kind,
            max_concurrent_calls=changes.max_concurrent_calls,
            max_call_seconds=changes.max_call_seconds,
            company_name=changes.company_name,
        )
        return account_details(uc.update_account(req.uow, req.caller, account_id, cmd))

    @rpc(AccountId, Reason(min_occurs=1, nillable=False), _returns=m.AccountDetails)
    def BlockAccount(ctx: Any, account_id: int, reason: str) -> m.AccountDetails:
        """Block an account below you: its logins and calls are refused until unblocked."""
        req = request(ctx)
        return account_details(uc.set_status(req.uow, req.caller, account_id, "blocked", reason))

    @rpc(AccountId, _returns=m.AccountDetails)
    def UnblockAccount(ctx: Any, account_id: int) -> m.AccountDetails:
        """Make a blocked account active again."""
        req = request(ctx)
        return account_details(uc.set_status(req.uow, req.caller, account_id, "active", ""))

    @rpc(AccountId, Reason(min_occurs=1, nillable=False), _returns=m.AccountDetails)
    def CloseAccount(ctx: Any, account_id: int, reason: str) -> m.AccountDetails:
        """Close an account below you for good; its balance and history are kept."""
        req = request(ctx)
        return account_details(uc.set_status(req.uow, req.caller, account_id, "closed", reason))

    @rpc(Integer, Offset, Limit, _returns=m.CallerIds)
    def ListCallerIds(
        ctx: Any, account_id: int | None, offset: int | None, limit: int | None
    ) -> m.CallerIds:
        """The caller IDs (ANI) bound to an account of your subtree, in order, a page at
        a time (limit 1 to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        account, ids, total = uc.list_callerids(req.uow, req.caller, account_id, first, count)
        return m.CallerIds(
            account_id=account.id,
            restrict_ani=account.restrict_ani,
            callerids=ids,
            total=total,
            offset=first,
        )

    @rpc(
        AccountId,
        Unicode(max_len=40).customize(max_occurs=100),
        Boolean,
        _returns=m.CallerIds,
    )
    def SetCallerIds(
        ctx: Any, account_id: int, callerids: list[str] | None, restrict_ani: bool | None
    ) -> m.CallerIds:
        """Replace the caller IDs bound to an account below you; with `restrict_ani`
        only calls from those numbers are allowed."""
        req = request(ctx)
        ids = uc.set_callerids(req.uow, req.caller, account_id, list(callerids or []), restrict_ani)
        account = uc.get_tech(req.uow, req.caller, account_id)
        return m.CallerIds(
            account_id=account.id,
            restrict_ani=account.restrict_ani,
            callerids=ids,
            total=len(ids),
            offset=0,
        )

    @rpc(Integer, _returns=m.TechDetails)
    def GetTechDetails(ctx: Any, account_id: int | None) -> m.TechDetails:
        """What Asterisk needs: SIP peer name, accountcode, access numbers, and whether a
        SIP secret is set (the secret itself is never answered, to anybody)."""
        req = request(ctx)
        return _tech(uc.get_tech(req.uow, req.caller, account_id))

    @rpc(AccountId, m.TechDetails.customize(min_occurs=1, nillable=False), _returns=m.TechDetails)
    def SetTechDetails(ctx: Any, account_id: int, tech: m.TechDetails) -> m.TechDetails:
        """Set the Asterisk details of an account below you (`tech.account_id` is
        ignored); fields left out stay, an empty one clears. `sip_secret`: 8 to 80
        characters, no spaces; stored as its digest only (a new `sip_username` needs
        the secret again). An account with a SIP name and secret is provisioned to
        Asterisk while it and every account above it are active."""
        req = request(ctx)
        cmd = uc.TechDetails(
            sip_username=tech.sip_username,
            sip_secret=tech.sip_secret,
            accountcode=tech.accountcode,
            allowed_dnis=tech.allowed_dnis,
        )
        return _tech(uc.set_tech(req.uow, req.caller, account_id, cmd))

    @rpc(Integer, _returns=m.Branding)
    def GetBranding(ctx: Any, account_id: int | None) -> m.Branding:
        """The company name an account's customers see: the nearest reseller's at or
        above it (white label). Customers may ask for their own."""
        req = request(ctx)
        b = uc.branding(req.uow, req.caller, account_id)
        return m.Branding(account_id=b.account_id, company_name=b.company_name)

    @rpc(
        Integer,
        Unicode(max_len=128, min_occurs=1, nillable=False),
        Unicode(max_len=1000),
        Unicode(max_len=64),
        Unicode(max_len=500),
        ByteArray,
        _returns=m.Branding,
    )
    def SetBranding(
        ctx: Any,
        account_id: int | None,
        company_name: str,
        address: str | None,
        tax_id: str | None,
        invoice_footer: str | None,
        logo: Any,
    ) -> m.Branding:
        """Set the company name of your own reseller account (empty account_id) or of
        a reseller below you, and what the invoices it issues print: address, tax id,
        footer and logo (PNG or JPEG, up to 256 KB; empty removes it). Fields left out
        are kept."""
        req = request(ctx)
        brand = InvoiceBrand(
            address, tax_id, invoice_footer, None if logo is None else _bytes(logo)
        )
        a = uc.set_branding(req.uow, req.caller, account_id, company_name, brand)
        return m.Branding(account_id=a.id, company_name=a.company_name)
