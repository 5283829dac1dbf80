"""Reseller Manager service (urn:siptar:reseller)."""

from __future__ import annotations

from services.common.app import SiptarApplication, make_application
from services.reseller.models import TNS
from services.reseller.service import ResellerService
from services.reseller.traffic_service import ResellerTrafficService

NAME = "reseller"


def application() -> SiptarApplication:
    return make_application([ResellerService, ResellerTrafficService], tns=TNS, name="Reseller")
