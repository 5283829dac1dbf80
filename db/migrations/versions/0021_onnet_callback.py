"""on-net calls: the account an on-net CDR rang

Revision ID: 0021
Revises: 0013c
Create Date: 2026-12-01 16:30:00

`cdrs.onnet_account_id` is NULL for every call stored before (none was on-net), so old
CDRs keep their meaning. A plain integer, no foreign key: SQLite would otherwise rebuild
the whole CDR table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0013c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cdrs", sa.Column("onnet_account_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_column("onnet_account_id")
