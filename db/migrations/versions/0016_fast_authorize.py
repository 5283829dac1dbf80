"""fast authorize: accounts.reserved kept by a trigger, partial indexes on open reservations

Revision ID: 0016
Revises: 0018
Create Date: 2026-12-01 13:20:00

`accounts.reserved` is the sum of the account's open reservations, backfilled here from
the rows already there and kept from then on by a trigger on `reservations`
(db/reserved_triggers.py, on both databases). The partial indexes hold the open rows only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types
from db.reserved_triggers import BACKFILL, create_sql, drop_sql

revision = "0016"
down_revision = "0018"
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
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reserved", db.types.Money(), server_default="0", nullable=False)
        )
    for name, columns, where in INDEXES:
        op.create_index(
            name,
            "reservations",
            columns,
            unique=False,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL)
    for statement in create_sql(dialect):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_sql(dialect):
        op.execute(statement)
    for name, _, _ in INDEXES:
        op.drop_index(name, table_name="reservations")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("reserved")
