"""Reseller Manager service (urn:siptar:reseller)."""

from __future__ import annotations

from services.common.app import SiptarApplication, make_application
from services.reseller.models import TNS
from services.reseller.service import ResellerService

NAME = "reseller"


def application() -> SiptarApplication:
    return make_application([ResellerService], tns=TNS, name="Reseller")
