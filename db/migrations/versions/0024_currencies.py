"""currencies: the currency table, exchange rates, both amounts on a converted charge

Revision ID: 0024
Revises: 0013c
Create Date: 2026-12-01 16:10:00

Seeds the common ISO 4217 currencies, and every other code that accounts or rate
sheets already carry (with the usual 2-digit minor unit), so that nothing written
before this revision names an unknown currency. Existing charges are all in their
account's currency (nothing converted before): the new columns stay NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None

# (code, name, ISO minor unit): a snapshot, so that this revision always seeds the same.
SEED = (
    ("AED", "UAE Dirham", 2),
    ("ARS", "Argentine Peso", 2),
    ("AUD", "Australian Dollar", 2),
    ("BHD", "Bahraini Dinar", 3),
    ("BRL", "Brazilian Real", 2),
    ("CAD", "Canadian Dollar", 2),
    ("CHF", "Swiss Franc", 2),
    ("CLP", "Chilean Peso", 0),
    ("CNY", "Yuan Renminbi", 2),
    ("COP", "Colombian Peso", 2),
    ("CZK", "Czech Koruna", 2),
    ("DKK", "Danish Krone", 2),
    ("EGP", "Egyptian Pound", 2),
    ("EUR", "Euro", 2),
    ("GBP", "Pound Sterling", 2),
    ("HKD", "Hong Kong Dollar", 2),
    ("HUF", "Forint", 2),
    ("IDR", "Rupiah", 2),
    ("ILS", "New Israeli Sheqel", 2),
    ("INR", "Indian Rupee", 2),
    ("JOD", "Jordanian Dinar", 3),
    ("JPY", "Yen", 0),
    ("KRW", "Won", 0),
    ("KWD", "Kuwaiti Dinar", 3),
    ("MAD", "Moroccan Dirham", 2),
    ("MXN", "Mexican Peso", 2),
    ("NGN", "Naira", 2),
    ("NOK", "Norwegian Krone", 2),
    ("NZD", "New Zealand Dollar", 2),
    ("PEN", "Sol", 2),
    ("PHP", "Philippine Peso", 2),
    ("PKR", "Pakistan Rupee", 2),
    ("PLN", "Zloty", 2),
    ("RON", "Romanian Leu", 2),
    ("SAR", "Saudi Riyal", 2),
    ("SEK", "Swedish Krona", 2),
    ("SGD", "Singapore Dollar", 2),
    ("THB", "Baht", 2),
    ("TND", "Tunisian Dinar", 3),
    ("TRY", "Turkish Lira", 2),
    ("UAH", "Hryvnia", 2),
    ("USD", "US Dollar", 2),
    ("VND", "Dong", 0),
    ("ZAR", "Rand", 2),
)
DECIMALS = 4  # the places a converted charge is rounded to (docs/currencies.md)


def upgrade() -> None:
    currencies = op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("minor_unit", sa.Integer(), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.CheckConstraint("minor_unit BETWEEN 0 AND 4", name=op.f("ck_currencies_minor_unit")),
        sa.CheckConstraint("decimals BETWEEN 0 AND 6", name=op.f("ck_currencies_decimals")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currencies")),
    )
    op.create_table(
        "exchange_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_currency", sa.String(length=3), nullable=False),
        sa.Column("to_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", db.types.ExactRate(), nullable=False),
        sa.Column("valid_from", db.types.UtcDateTime(), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(), nullable=False),
        sa.CheckConstraint("from_currency <> to_currency", name=op.f("ck_exchange_rates_pair")),
        sa.ForeignKeyConstraint(
            ["from_currency"],
            ["currencies.code"],
            name=op.f("fk_exchange_rates_from_currency_currencies"),
        ),
        sa.ForeignKeyConstraint(
            ["to_currency"],
            ["currencies.code"],
            name=op.f("fk_exchange_rates_to_currency_currencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint(
            "from_currency", "to_currency", "valid_from", name=op.f("uq_exchange_rates_pair_start")
        ),
    )
    seeded = {code for code, _, _ in SEED}
    bind = op.get_bind()
    used = {
        str(code).upper()
        for (code,) in bind.execute(
            sa.text("SELECT currency FROM accounts UNION SELECT currency FROM rate_sheets")
        )
        if code
    }
    rows = [
        {"code": c, "name": n, "minor_unit": m, "decimals": DECIMALS} for c, n, m in SEED
    ] + [
        {"code": c, "name": c, "minor_unit": 2, "decimals": DECIMALS}
        for c in sorted(used - seeded)
        if len(c) == 3
    ]
    op.bulk_insert(currencies, rows)
    for name, column in (
        ("sheet_currency", sa.String(length=3)),
        ("sheet_cost", db.types.Money()),
        ("fx_rate", db.types.ExactRate()),
        ("operator_cost", db.types.Money()),
    ):
        op.add_column("charges", sa.Column(name, column, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("charges", schema=None) as batch_op:
        for name in ("operator_cost", "fx_rate", "sheet_cost", "sheet_currency"):
            batch_op.drop_column(name)
    op.drop_table("exchange_rates")
    op.drop_table("currencies")
