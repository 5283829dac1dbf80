"""configuration manager: statuses of providers, trunks and routes, version stamps, settings

Revision ID: 0017
Revises: 0018
Create Date: 2026-12-01 13:10:00

Providers, trunks and routes take the status active / disabled / retired (never a
delete: CDRs and charges point at them). A status other than these, which nothing
wrote before this revision, becomes `disabled`, so that nothing is routed that was
not routed before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types
from db.provisioning_triggers import create_triggers

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

STATUSES = "status IN ('active', 'disabled', 'retired')"


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_config_versions")),
    )
    op.create_table(
        "settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_settings")),
    )
    for table in ("providers", "trunks"):
        op.execute(
            f"UPDATE {table} SET status = 'disabled' "
            "WHERE status NOT IN ('active', 'disabled', 'retired')"
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint("status", STATUSES)
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.create_check_constraint("status", STATUSES)
    # SQLite's batch mode rebuilt providers and trunks, dropping the provisioning
    # change-counter triggers of 0018b: put them back (a no-op change on PostgreSQL).
    create_triggers(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("routes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_routes_status"), type_="check")
        batch_op.drop_column("status")
    for table in ("trunks", "providers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_status"), type_="check")
    create_triggers(op.get_bind())
    op.drop_table("settings")
    op.drop_table("config_versions")
