"""The routes' version stamp (`config_versions` row 'routing', db/config_versions.py)
kept by database triggers: any change of a provider, trunk, route or route's trunk bumps
it in the same transaction, on PostgreSQL and on SQLite. Authorize keeps the routes per
worker and reads the stamp with the statement that locks the account chain
(services/credit/route_cache.py, `RouteCache`): a stale stamp only reloads the routes.

Why triggers and not only the use cases' `config_versions.bump`: the routes are written
by the Configuration Manager, the DID switch, `siptar demo`, imports, test builders and
psql by hand; a writer that forgot the bump would leave every worker routing on old
trunks, and the triggers make that impossible. Not watched: `trunks.open_calls`, kept
by every Authorize and settlement (services/credit/holds.py), which is live data read
with the trunks' buy sheets' versions, not cached. A migration that rebuilds a watched
table on SQLite (batch_alter_table) drops its triggers: call `ROUTING.create` again.
"""

from __future__ import annotations

from db.provisioning_triggers import Triggers

ROUTING = Triggers(
    watched={
        "providers": None,
        "trunks": ("provider_id", "name", "dial_string", "channel_limit", "status", "sip_host"),
        "routes": None,
        "route_trunks": None,
    },
    function="siptar_routing_changed",
    bump=(
        "INSERT INTO config_versions (name, version) VALUES ('routing', 1) "
        "ON CONFLICT (name) DO UPDATE SET version = config_versions.version + 1"
    ),
    prefix="siptar_route",
)
