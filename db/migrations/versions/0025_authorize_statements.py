"""authorize statements: the routes' stamp kept by triggers; trunks' open calls no
longer move the provisioning counter

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-01 19:10:00

- db/routing_triggers.py: triggers on providers, trunks, routes and route_trunks bump
  `config_versions` 'routing', which Authorize's per-worker route cache is checked
  against (services/credit/routing.py). The row is created if missing.
- db/provisioning_triggers.py: the trunks' trigger now watches the configured columns
  only; it fired on `open_calls`, which every Authorize changes, so every call bumped
  the provisioning counter (every Authorize waited on its row, and the AMI listener
  reloaded Asterisk after every call).
No data changes: the stamp starts one above what it was, so every worker reloads once.
"""

from __future__ import annotations

from dataclasses import replace

from alembic import op

from db.provisioning_triggers import PROVISIONING, create_triggers
from db.routing_triggers import ROUTING

revision = "0025"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    create_triggers(bind)
    ROUTING.create(bind)
    op.execute(ROUTING.bump)


def downgrade() -> None:
    bind = op.get_bind()
    ROUTING.drop(bind)
    # The trunks' provisioning trigger as it was: on any update, open_calls included.
    replace(PROVISIONING, watched={**PROVISIONING.watched, "trunks": None}).create(bind)
