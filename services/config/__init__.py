"""Configuration Manager service (urn:siptar:config)."""

from __future__ import annotations

from services.common.app import SiptarApplication, make_application
from services.config.asterisk_service import AsteriskService
from services.config.catalog_service import CatalogConfigService
from services.config.currency_service import CurrencyService
from services.config.deck_service import RateDeckService
from services.config.did_service import DidService
from services.config.holiday_service import HolidayService
from services.config.models import TNS
from services.config.routing_changes_service import RoutingChangesService
from services.config.routing_service import RoutingService
from services.config.service import ConfigService
from services.config.settings_service import SettingsService
from services.config.sheet_rules_service import SheetRulesService
from services.config.traffic_service import TrafficService

NAME = "config"


def application() -> SiptarApplication:
    return make_application(
        [
            ConfigService,
            RateDeckService,
            RoutingService,
            TrafficService,
            DidService,
            AsteriskService,
            CatalogConfigService,
            HolidayService,
            RoutingChangesService,
            SettingsService,
            SheetRulesService,
            CurrencyService,
        ],
        tns=TNS,
        name="Config",
    )
