"""on-net calls and web callback: the account an on-net CDR rang; the callbacks

Revision ID: 0021
Revises: 0013c
Create Date: 2026-12-01 16:30:00

`cdrs.onnet_account_id` is NULL for every call stored before (none was on-net), so old
CDRs keep their meaning. A plain integer, no foreign key: SQLite would otherwise rebuild
the whole CDR table. `callbacks` is new.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0021"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cdrs", sa.Column("onnet_account_id", sa.Integer(), nullable=True))
    reservation_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number_a", sa.String(length=40), nullable=False),
        sa.Column("number_b", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("dial_a", sa.String(length=255), nullable=False),
        sa.Column("reservation_a", reservation_id, nullable=True),
        sa.Column("reservation_b", reservation_id, nullable=True),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("answered_at", db.types.UtcDateTime(), nullable=True),
        sa.Column("ended_at", db.types.UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('calling', 'connected', 'completed', 'failed')",
            name=op.f("ck_callbacks_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_callbacks_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_callbacks_channel_id")),
    )
    op.create_index("ix_callbacks_account", "callbacks", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_callbacks_account", table_name="callbacks")
    op.drop_table("callbacks")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_column("onnet_account_id")
