"""invoices.period_key wide enough for any period

Revision ID: 0013c
Revises: 0017
Create Date: 2026-12-01 14:15:00

The key is the period's two ISO instants. With microseconds (a period asked for "until
now" over the wire) it is 65 characters, one more than String(64), so such an invoice
could not be issued on PostgreSQL (SQLite does not enforce the length). Widening keeps
every stored key as it is, so a second CreateInvoice of an old period still finds it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013c"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.alter_column(
            "period_key", existing_type=sa.String(length=64), type_=sa.String(length=80)
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.alter_column(
            "period_key", existing_type=sa.String(length=80), type_=sa.String(length=64)
        )
