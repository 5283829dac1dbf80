"""invoices: billing profiles, taxes, invoice numbers, invoices, outbox, balance alerts; ledger kind 'tax'

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment')"
NEW_KINDS = "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment', 'tax')"


def upgrade() -> None:
    op.create_table(
        "account_profiles",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("tax_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=32), nullable=False),
        sa.Column("invoice_footer", sa.Text(), nullable=False),
        sa.Column("tax_inclusive", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("cdr_detail", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("billing_day", sa.Integer(), server_default="1", nullable=False),
        sa.Column("payment_days", sa.Integer(), server_default="15", nullable=False),
        sa.CheckConstraint("billing_day BETWEEN 1 AND 28", name=op.f("ck_account_profiles_billing_day")),
        sa.CheckConstraint("payment_days BETWEEN 0 AND 365", name=op.f("ck_account_profiles_payment_days")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_account_profiles_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_profiles")),
    )
    op.create_table(
        "account_taxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("rate", db.types.Money(), nullable=False),
        sa.Column("compound", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_account_taxes_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_taxes")),
        sa.UniqueConstraint("account_id", "position", name="uq_account_taxes_account_position"),
    )
    op.create_index(op.f("ix_account_taxes_account_id"), "account_taxes", ["account_id"], unique=False)
    op.create_table(
        "invoice_counters",
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["accounts.id"], name=op.f("fk_invoice_counters_issuer_id_accounts")),
        sa.PrimaryKeyConstraint("issuer_id", "year", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("period_key", sa.String(length=64), nullable=True),
        sa.Column("period_start", db.types.UtcDateTime(), nullable=False),
        sa.Column("period_end", db.types.UtcDateTime(), nullable=False),
        sa.Column("issued_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("due_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net", db.types.Money(), nullable=False),
        sa.Column("tax", db.types.Money(), nullable=False),
        sa.Column("total", db.types.Money(), nullable=False),
        sa.Column("opening_balance", db.types.Money(), nullable=False),
        sa.Column("closing_balance", db.types.Money(), nullable=False),
        sa.Column("credits_invoice_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name=op.f("ck_invoices_kind")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_invoices_account_id_accounts")),
        sa.ForeignKeyConstraint(["credits_invoice_id"], ["invoices.id"], name=op.f("fk_invoices_credits_invoice_id_invoices")),
        sa.ForeignKeyConstraint(["issuer_id"], ["accounts.id"], name=op.f("fk_invoices_issuer_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("account_id", "period_key", name="uq_invoices_account_period"),
        sa.UniqueConstraint("issuer_id", "number", name="uq_invoices_issuer_number"),
    )
    op.create_index("ix_invoices_account_period", "invoices", ["account_id", "period_start"], unique=False)
    op.create_index(op.f("ix_invoices_issuer_id"), "invoices", ["issuer_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("to_addr", sa.String(length=255), nullable=False),
        sa.Column("from_name", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("claimed_at", db.types.UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("sent_at", db.types.UtcDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name=op.f("ck_outbox_status")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_outbox_invoice_id_invoices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "balance_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("threshold", db.types.Money(), nullable=False),
        sa.Column("armed", sa.Boolean(), nullable=False),
        sa.Column("crossings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_balance_alerts_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_alerts")),
        sa.UniqueConstraint("account_id", "threshold", name="uq_balance_alerts_account_threshold"),
    )
    op.create_index(op.f("ix_balance_alerts_account_id"), "balance_alerts", ["account_id"], unique=False)
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind"), NEW_KINDS)


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind"), OLD_KINDS)
    op.drop_index(op.f("ix_balance_alerts_account_id"), table_name="balance_alerts")
    op.drop_table("balance_alerts")
    op.drop_index("ix_outbox_status_next", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_invoices_issuer_id"), table_name="invoices")
    op.drop_index("ix_invoices_account_period", table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("invoice_counters")
    op.drop_index(op.f("ix_account_taxes_account_id"), table_name="account_taxes")
    op.drop_table("account_taxes")
    op.drop_table("account_profiles")
