"""fast authorize: partial indexes on open reservations

Revision ID: 0016
Revises: 0018
Create Date: 2026-12-01 13:20:00

Only the open rows, a small part of the table: what Authorize's sum of what the chain
holds, its concurrent-call count, trunk channel limits and expiry look at.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

OPEN = "status = 'open'"
OPEN_CALL = "status = 'open' AND parent_id IS NULL"
INDEXES = (
    ("ix_reservations_open_account", ["account_id", "parent_id"], OPEN),
    ("ix_reservations_open_trunk", ["trunk_id"], OPEN_CALL),
    ("ix_reservations_open_expires", ["expires_at"], OPEN),
)


def upgrade() -> None:
    for name, columns, where in INDEXES:
        op.create_index(
            name,
            "reservations",
            columns,
            unique=False,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name="reservations")
