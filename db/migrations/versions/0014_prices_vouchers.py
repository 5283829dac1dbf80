"""prices and vouchers: holiday calendars (and rates.holidays), voucher lots and vouchers; ledger kind 'voucher'

Revision ID: 0014
Revises: 0018
Create Date: 2026-12-01 13:00:00

Existing rates get holidays "" (no holiday band): they price exactly as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment', 'tax')"
NEW_KINDS = "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment', 'tax', 'voucher')"


def upgrade() -> None:
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("holidays", sa.String(length=64), server_default="", nullable=False)
        )
    op.create_table(
        "holiday_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_holiday_calendars_name")),
    )
    op.create_table(
        "holiday_days",
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["holiday_calendars.id"],
            name=op.f("fk_holiday_days_calendar_id_holiday_calendars"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("calendar_id", "day", name=op.f("pk_holiday_days")),
    )
    op.create_table(
        "voucher_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["accounts.id"], name=op.f("fk_voucher_lots_owner_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_lots")),
    )
    op.create_index(op.f("ix_voucher_lots_owner_id"), "voucher_lots", ["owner_id"], unique=False)
    op.create_table(
        "vouchers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("value", db.types.Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expires_at", db.types.UtcDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("used_at", db.types.UtcDateTime(), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'blocked')", name=op.f("ck_vouchers_status")),
        sa.CheckConstraint("value > 0", name=op.f("ck_vouchers_value")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["voucher_lots.id"], name=op.f("fk_vouchers_lot_id_voucher_lots")
        ),
        sa.ForeignKeyConstraint(
            ["used_by"], ["accounts.id"], name=op.f("fk_vouchers_used_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_vouchers_code_hash")),
    )
    op.create_index("ix_vouchers_lot", "vouchers", ["lot_id"], unique=False)
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind"), NEW_KINDS)


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind"), OLD_KINDS)
    op.drop_index("ix_vouchers_lot", table_name="vouchers")
    op.drop_table("vouchers")
    op.drop_index(op.f("ix_voucher_lots_owner_id"), table_name="voucher_lots")
    op.drop_table("voucher_lots")
    op.drop_table("holiday_days")
    op.drop_table("holiday_calendars")
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.drop_column("holidays")
