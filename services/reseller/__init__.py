"""Reseller Manager service (urn:siptar:reseller)."""

from __future__ import annotations

from services.common.app import SiptarApplication, make_application
from services.reseller.accounts_service import AccountsService
from services.reseller.asterisk_service import AsteriskStatusService
from services.reseller.audit_service import AuditService
from services.reseller.bundle_service import BundleService
from services.reseller.models import TNS
from services.reseller.month_service import MonthService
from services.reseller.password_service import ResellerPasswordService
from services.reseller.pins_service import PinsService
from services.reseller.service import ResellerService
from services.reseller.sheets_service import SheetsService
from services.reseller.traffic_service import ResellerTrafficService
from services.reseller.transfer_service import TransferService
from services.reseller.voucher_service import VoucherService

NAME = "reseller"


def application() -> SiptarApplication:
    return make_application(
        [
            ResellerService,
            AccountsService,
            PinsService,
            SheetsService,
            TransferService,
            ResellerTrafficService,
            ResellerPasswordService,
            AuditService,
            MonthService,
            AsteriskStatusService,
            VoucherService,
            BundleService,
        ],
        tns=TNS,
        name="Reseller",
    )
