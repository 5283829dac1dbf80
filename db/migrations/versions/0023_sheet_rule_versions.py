"""rule versions of rate sheets: decimals, rounding, block mode and time zone from a moment

Revision ID: 0023
Revises: 0013c
Create Date: 2026-12-01 16:10:00

A new table only: every existing sheet keeps its own columns as its one rule, so calls
rated before this revision re-rate to the same price after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0023"
down_revision = "0013c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_sheet_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", db.types.UtcDateTime(), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("rounding", sa.String(length=16), nullable=False),
        sa.Column("block_mode", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "block_mode IN ('first_block', 'whole_call')",
            name=op.f("ck_rate_sheet_rules_block_mode"),
        ),
        sa.CheckConstraint("decimals BETWEEN 0 AND 6", name=op.f("ck_rate_sheet_rules_decimals")),
        sa.CheckConstraint(
            "rounding IN ('half_up', 'up', 'down')", name=op.f("ck_rate_sheet_rules_rounding")
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["rate_sheets.id"],
            name=op.f("fk_rate_sheet_rules_sheet_id_rate_sheets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_sheet_rules")),
        sa.UniqueConstraint(
            "sheet_id", "effective_from", name="uq_rate_sheet_rules_sheet_from"
        ),
    )


def downgrade() -> None:
    op.drop_table("rate_sheet_rules")
