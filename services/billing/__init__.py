"""Billing Engine service (urn:siptar:billing)."""

from __future__ import annotations

from services.billing.bundle_usage_service import BundleUsageService
from services.billing.callback_service import CallbackService
from services.billing.callshop_service import CallShopService
from services.billing.credit_service import CreditService
from services.billing.invoice_service import InvoiceService
from services.billing.models import TNS
from services.billing.password_service import PasswordService
from services.billing.payments_service import PaymentsService
from services.billing.service import BillingService
from services.billing.voucher_service import VoucherRedeemService
from services.common.app import SiptarApplication, make_application

NAME = "billing"


def application() -> SiptarApplication:
    return make_application(
        [
            BillingService,
            CreditService,
            PaymentsService,
            PasswordService,
            InvoiceService,
            CallShopService,
            VoucherRedeemService,
            CallbackService,
            BundleUsageService,
        ],
        tns=TNS,
        name="Billing",
    )
