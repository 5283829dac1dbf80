"""Billing Engine service (urn:siptar:billing)."""

from __future__ import annotations

from services.billing.credit_service import CreditService
from services.billing.models import TNS
from services.billing.service import BillingService
from services.common.app import SiptarApplication, make_application

NAME = "billing"


def application() -> SiptarApplication:
    return make_application([BillingService, CreditService], tns=TNS, name="Billing")
