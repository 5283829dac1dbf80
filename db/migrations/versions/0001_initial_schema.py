"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:09:17.873156
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("billing_type", sa.String(length=16), nullable=False),
        sa.Column("balance", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("credit_limit", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_sheet_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=255), nullable=False),
        sa.Column("accountcode", sa.String(length=80), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("max_concurrent_calls", sa.Integer(), nullable=True),
        sa.Column("max_call_seconds", sa.Integer(), nullable=True),
        sa.Column("company_name", sa.String(length=128), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "billing_type IN ('prepaid', 'postpaid')", name=op.f("ck_accounts_billing_type")
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'reseller', 'customer')", name=op.f("ck_accounts_role")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'blocked', 'closed')", name=op.f("ck_accounts_status")
        ),
        sa.CheckConstraint("credit_limit >= 0", name=op.f("ck_accounts_credit_limit")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["accounts.id"], name=op.f("fk_accounts_parent_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("accountcode", name=op.f("uq_accounts_accountcode")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index("ix_accounts_path", ["path"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_accounts_rate_sheet_id"), ["rate_sheet_id"], unique=False
        )

    op.create_table(
        "routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("allow_loss", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "strategy IN ('lcr', 'priority', 'balance', 'quality')", name=op.f("ck_routes_strategy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routes")),
        sa.UniqueConstraint("prefix", name=op.f("uq_routes_prefix")),
    )
    op.create_table(
        "logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_logins_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logins")),
        sa.UniqueConstraint("username", name=op.f("uq_logins_username")),
    )
    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logins_account_id"), ["account_id"], unique=False)

    op.create_table(
        "rate_sheets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("rounding", sa.String(length=16), nullable=False),
        sa.Column("block_mode", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "block_mode IN ('first_block', 'whole_call')", name=op.f("ck_rate_sheets_block_mode")
        ),
        sa.CheckConstraint(
            "rounding IN ('half_up', 'up', 'down')", name=op.f("ck_rate_sheets_rounding")
        ),
        sa.CheckConstraint("decimals BETWEEN 0 AND 6", name=op.f("ck_rate_sheets_decimals")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["accounts.id"], name=op.f("fk_rate_sheets_owner_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_sheets")),
        sa.UniqueConstraint("owner_id", "name", name="uq_rate_sheets_owner_name"),
    )
    with op.batch_alter_table("rate_sheets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_sheets_owner_id"), ["owner_id"], unique=False)

    # accounts and rate_sheets refer to each other: this key is added once both exist.
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_accounts_rate_sheet_id_rate_sheets"), "rate_sheets", ["rate_sheet_id"], ["id"]
        )

    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("buy_sheet_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["buy_sheet_id"], ["rate_sheets.id"], name=op.f("fk_providers_buy_sheet_id_rate_sheets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("name", name=op.f("uq_providers_name")),
    )
    op.create_table(
        "rates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=128), nullable=False),
        sa.Column("price", db.types.Money(precision=18, scale=6), nullable=True),
        sa.Column("tiers", sa.String(length=512), nullable=False),
        sa.Column("initial_increment", sa.Integer(), nullable=False),
        sa.Column("increment", sa.Integer(), nullable=False),
        sa.Column("connect_fee", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("included_seconds", sa.Integer(), nullable=False),
        sa.Column("free_below", sa.Integer(), nullable=False),
        sa.Column("min_cost", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("max_cost", db.types.Money(precision=18, scale=6), nullable=True),
        sa.Column("weekdays", sa.String(length=64), nullable=False),
        sa.Column("time_from", sa.Time(), nullable=True),
        sa.Column("time_to", sa.Time(), nullable=True),
        sa.Column("valid_from", db.types.UtcDateTime(), nullable=True),
        sa.Column("valid_to", db.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["rate_sheets.id"],
            name=op.f("fk_rates_sheet_id_rate_sheets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rates")),
    )
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.create_index("ix_rates_sheet_prefix", ["sheet_id", "prefix"], unique=False)

    op.create_table(
        "trunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("dial_string", sa.String(length=255), nullable=False),
        sa.Column("channel_limit", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_trunks_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunks")),
        sa.UniqueConstraint("name", name=op.f("uq_trunks_name")),
    )
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trunks_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "cdrs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("accountcode", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("src", sa.String(length=80), nullable=False),
        sa.Column("dst", sa.String(length=80), nullable=False),
        sa.Column("dcontext", sa.String(length=80), nullable=False),
        sa.Column("callerid", sa.String(length=160), nullable=False),
        sa.Column("channel", sa.String(length=160), nullable=False),
        sa.Column("dstchannel", sa.String(length=160), nullable=False),
        sa.Column("lastapp", sa.String(length=80), nullable=False),
        sa.Column("lastdata", sa.String(length=255), nullable=False),
        sa.Column("start_time", db.types.UtcDateTime(), nullable=False),
        sa.Column("answer_time", db.types.UtcDateTime(), nullable=True),
        sa.Column("end_time", db.types.UtcDateTime(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("billsec", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("amaflags", sa.String(length=32), nullable=False),
        sa.Column("userfield", sa.String(length=255), nullable=False),
        sa.Column("peeraccount", sa.String(length=80), nullable=False),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("trunk_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("unrated_reason", sa.String(length=255), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=128), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("exact_cost", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("cost", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("received_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("rated_at", db.types.UtcDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('rated', 'unrated')", name=op.f("ck_cdrs_status")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cdrs_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["trunk_id"], ["trunks.id"], name=op.f("fk_cdrs_trunk_id_trunks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("uniqueid", "sequence", name="uq_cdrs_uniqueid_sequence"),
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.create_index("ix_cdrs_account_start", ["account_id", "start_time"], unique=False)
        batch_op.create_index("ix_cdrs_start", ["start_time"], unique=False)

    op.create_table(
        "route_trunks",
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("trunk_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["routes.id"],
            name=op.f("fk_route_trunks_route_id_routes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["trunk_id"], ["trunks.id"], name=op.f("fk_route_trunks_trunk_id_trunks")
        ),
        sa.PrimaryKeyConstraint("route_id", "trunk_id", name=op.f("pk_route_trunks")),
    )
    op.create_table(
        "charges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cdr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("sheet_id", sa.Integer(), nullable=True),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("exact_cost", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("cost", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_charges_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["cdr_id"], ["cdrs.id"], name=op.f("fk_charges_cdr_id_cdrs")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_charges_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"], ["rate_sheets.id"], name=op.f("fk_charges_sheet_id_rate_sheets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
    )
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.create_index("ix_charges_account", ["account_id"], unique=False)
        batch_op.create_index("ix_charges_cdr", ["cdr_id"], unique=False)

    op.create_table(
        "ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("balance_after", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("cdr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=True),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment')",
            name=op.f("ck_ledger_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["cdr_id"], ["cdrs.id"], name=op.f("fk_ledger_cdr_id_cdrs")),
        sa.ForeignKeyConstraint(
            ["login_id"], ["logins.id"], name=op.f("fk_ledger_login_id_logins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
    )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_account_created", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_cdr_id"), ["cdr_id"], unique=False)

    op.create_table(
        "reservations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=80), nullable=False),
        sa.Column("amount", db.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("max_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("cdr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", db.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'settled', 'released', 'expired')",
            name=op.f("ck_reservations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_reservations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["cdr_id"], ["cdrs.id"], name=op.f("fk_reservations_cdr_id_cdrs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reservations_account_status", ["account_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_accounts_rate_sheet_id_rate_sheets"), type_="foreignkey")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_reservations_account_status")

    op.drop_table("reservations")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_cdr_id"))
        batch_op.drop_index("ix_ledger_account_created")

    op.drop_table("ledger")
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_cdr")
        batch_op.drop_index("ix_charges_account")

    op.drop_table("charges")
    op.drop_table("route_trunks")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index("ix_cdrs_start")
        batch_op.drop_index("ix_cdrs_account_start")

    op.drop_table("cdrs")
    with op.batch_alter_table("trunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trunks_provider_id"))

    op.drop_table("trunks")
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.drop_index("ix_rates_sheet_prefix")

    op.drop_table("rates")
    op.drop_table("providers")
    with op.batch_alter_table("rate_sheets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_sheets_owner_id"))

    with op.batch_alter_table("logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logins_account_id"))

    op.drop_table("logins")
    op.drop_table("routes")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_rate_sheet_id"))
        batch_op.drop_index("ix_accounts_path")
        batch_op.drop_index(batch_op.f("ix_accounts_parent_id"))

    op.drop_table("rate_sheets")
    op.drop_table("accounts")
