"""maintained holds: accounts.reserved and trunks.open_calls

Revision ID: 0022
Revises: 0013c
Create Date: 2026-12-01 16:00:00

Authorize summed every open reservation of every account of the chain, and counted a
trunk's open calls, on every call. Both are now columns kept by every writer of
reservations under the row locks it already holds (services/credit/holds.py). The
upgrade computes them from the reservations open at that moment (stop the listeners
and the server while it runs, as for any upgrade). An index on (account_id,
expires_at) of the open rows lets Authorize's expiry read only the chain's due rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.types import Money

revision = "0022"
down_revision = "0024"
branch_labels = None
depends_on = None

OPEN = "status = 'open'"


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reserved", Money(), nullable=False, server_default="0"))
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_calls", sa.Integer(), nullable=False, server_default="0"))
    # Money is integer millionths on SQLite and numeric on PostgreSQL: SUM is exact on both.
    op.execute(
        "UPDATE accounts SET reserved = COALESCE((SELECT SUM(r.amount) FROM reservations r "
        "WHERE r.account_id = accounts.id AND r.status = 'open'), 0)"
    )
    op.execute(
        "UPDATE trunks SET open_calls = (SELECT COUNT(*) FROM reservations r "
        "WHERE r.trunk_id = trunks.id AND r.status = 'open' AND r.parent_id IS NULL)"
    )
    op.create_index(
        "ix_reservations_open_account_expires",
        "reservations",
        ["account_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_reservations_open_account_expires", table_name="reservations")
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.drop_column("open_calls")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("reserved")
