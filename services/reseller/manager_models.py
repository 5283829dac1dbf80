"""Wire types of the Reseller Manager's account, PIN, price-list, profit and
import/export operations (urn:siptar:reseller)."""

from __future__ import annotations

from spyne import Boolean, ByteArray, ComplexModel, Integer, Unicode

from services.common.exports import ExportFile
from services.common.wire import Money, UtcDateTime
from services.reseller.models import TNS

# A named simple type needs its namespace: without one spyne files it under
# "spyne.model.primitive.string", and the WSDL prefixes then change from run to run.
FileFormat = Unicode(values=["csv", "xlsx"], type_name="FileFormat", __namespace__=TNS)


class AccountDetails(ComplexModel):
    __namespace__ = TNS
    id = Integer
    parent_id = Integer
    role = Unicode
    name = Unicode
    billing_type = Unicode
    balance = Money
    credit_limit = Money
    currency = Unicode
    rate_sheet_id = Integer
    status = Unicode
    status_reason = Unicode
    accountcode = Unicode
    kind = Unicode
    max_concurrent_calls = Integer
    max_call_seconds = Integer
    company_name = Unicode
    lot_id = Integer
    pin = Unicode
    created_at = UtcDateTime


class AccountDetailsPage(ComplexModel):
    __namespace__ = TNS
    items = AccountDetails.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class AccountFilter(ComplexModel):
    """Every field given must match; `search` looks in the name and company name
    (contains) and the accountcode and PIN (equal)."""

    __namespace__ = TNS
    status = Unicode(values=["active", "blocked", "closed"])
    role = Unicode(values=["customer", "reseller"])
    kind = Unicode(values=["sip", "callshop", "card", "wholesale"])
    billing_type = Unicode(values=["prepaid", "postpaid"])
    lot_id = Integer
    search = Unicode(max_len=128)


class AccountUpdate(ComplexModel):
    """Fields left out are not changed. 0 clears a limit."""

    __namespace__ = TNS
    name = Unicode(max_len=128)
    billing_type = Unicode(values=["prepaid", "postpaid"])
    credit_limit = Money
    kind = Unicode(values=["sip", "callshop", "card", "wholesale"])
    max_concurrent_calls = Integer(ge=0)
    max_call_seconds = Integer(ge=0)
    company_name = Unicode(max_len=128)


class CallerIds(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    restrict_ani = Boolean
    callerids = Unicode.customize(max_occurs="unbounded")
    # ListCallerIds pages `callerids`; SetCallerIds answers them all (at most 100).
    total = Integer
    offset = Integer


class TechDetails(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    sip_username = Unicode(max_len=80)
    # Write-only: set it here; it is never answered (only its digest is stored).
    sip_secret = Unicode(max_len=80)
    accountcode = Unicode(max_len=80)
    allowed_dnis = Unicode(max_len=255)
    # Answers only: whether a secret is set, and the digest realm Asterisk challenges with.
    sip_secret_set = Boolean
    sip_realm = Unicode(max_len=255)


class Branding(ComplexModel):
    __namespace__ = TNS
    account_id = Integer
    company_name = Unicode


class LotInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    owner_id = Integer
    name = Unicode
    cards = Integer
    active = Integer
    balance = Money
    created_at = UtcDateTime


class LotPage(ComplexModel):
    __namespace__ = TNS
    items = LotInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class FileData(ComplexModel):
    """An exported file (services/common/exports.py): its bytes, for CSV and XLSX alike."""

    __namespace__ = TNS
    filename = Unicode
    content_type = Unicode
    data = ByteArray


def file_data(f: ExportFile) -> FileData:
    return FileData(filename=f.filename, content_type=f.content_type, data=f.data)


class SheetInfo(ComplexModel):
    __namespace__ = TNS
    id = Integer
    owner_id = Integer
    name = Unicode
    currency = Unicode
    version = Integer
    rate_count = Integer


class SheetList(ComplexModel):
    __namespace__ = TNS
    items = SheetInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class SheetRate(ComplexModel):
    __namespace__ = TNS
    prefix = Unicode
    destination = Unicode
    price = Money
    tiers = Unicode
    initial_increment = Integer
    increment = Integer
    connect_fee = Money


class SheetRatePage(ComplexModel):
    __namespace__ = TNS
    items = SheetRate.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer


class ProfitLine(ComplexModel):
    """`calls`, `children_paid`, `paid`, `profit`: outbound calls; `inbound_*`: calls
    to DIDs."""

    __namespace__ = TNS
    key = Unicode
    calls = Integer
    children_paid = Money
    paid = Money
    profit = Money
    inbound_calls = Integer
    inbound_children_paid = Money
    inbound_paid = Money
    inbound_profit = Money


class ProfitReport(ComplexModel):
    """Outbound calls (`children_paid`, `paid`, `profit`), calls to DIDs (`inbound_*`)
    and recurring fees (`recurring_*`: fees, setup fees and credits of the periods that
    start in the report's period) apart; `total_profit` is the three profits' sum."""

    __namespace__ = TNS
    account_id = Integer
    group_by = Unicode
    children_paid = Money
    paid = Money
    profit = Money
    lines = ProfitLine.customize(max_occurs="unbounded")
    inbound_children_paid = Money
    inbound_paid = Money
    inbound_profit = Money
    recurring_charges = Integer
    recurring_children_paid = Money
    recurring_paid = Money
    recurring_profit = Money
    total_profit = Money
    currency = Unicode  # the operator's currency: every call figure is in it


class ImportSummary(ComplexModel):
    __namespace__ = TNS
    parent_id = Integer
    created = Integer


class AuditEventInfo(ComplexModel):
    """One change made through the services (ListAuditEvents)."""

    __namespace__ = TNS
    id = Integer
    at = UtcDateTime
    operation = Unicode
    login_id = Integer
    username = Unicode
    actor_account_id = Integer
    object_type = Unicode
    object_id = Unicode
    action = Unicode
    changes = Unicode  # JSON: {field: [before, after]}


class AuditPage(ComplexModel):
    __namespace__ = TNS
    items = AuditEventInfo.customize(max_occurs="unbounded")
    total = Integer
    offset = Integer
