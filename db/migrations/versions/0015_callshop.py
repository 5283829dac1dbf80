"""call shop: shops' sell sheets, booths, walk-in sessions

Revision ID: 0015
Revises: 0018
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0015"
down_revision = "0018b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callshops",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sell_sheet_id", sa.Integer(), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_callshops_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["sell_sheet_id"],
            ["rate_sheets.id"],
            name=op.f("fk_callshops_sell_sheet_id_rate_sheets"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_callshops")),
    )
    op.create_table(
        "callshop_booths",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("sip_peer", sa.String(length=80), nullable=False),
        sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["accounts.id"], name=op.f("fk_callshop_booths_shop_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callshop_booths")),
        sa.UniqueConstraint("sip_peer", name=op.f("uq_callshop_booths_sip_peer")),
    )
    op.create_index("ix_callshop_booths_shop", "callshop_booths", ["shop_id"], unique=False)
    op.create_table(
        "callshop_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booth_id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("closed_at", db.types.UtcDateTime(), nullable=True),
        sa.Column("paid_at", db.types.UtcDateTime(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("total", db.types.Money(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'to_pay', 'paid')", name=op.f("ck_callshop_sessions_status")
        ),
        sa.ForeignKeyConstraint(
            ["booth_id"],
            ["callshop_booths.id"],
            name=op.f("fk_callshop_sessions_booth_id_callshop_booths"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["accounts.id"], name=op.f("fk_callshop_sessions_shop_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callshop_sessions")),
    )
    op.create_index(
        "ix_callshop_sessions_booth_status",
        "callshop_sessions",
        ["booth_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_callshop_sessions_shop_opened",
        "callshop_sessions",
        ["shop_id", "opened_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("callshop_sessions")
    op.drop_table("callshop_booths")
    op.drop_table("callshops")
