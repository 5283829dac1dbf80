"""provisioning: trunk registrations, customers' source networks, the change counter

Revision ID: 0018b
Revises: 0018
Create Date: 2026-12-01 12:50:00

- `trunk_registrations`: a trunk's outbound REGISTER to its provider (secret kept as
  md5_cred only), read by the new `ps_registrations` view and the trunk's outbound auth.
- `account_source_ips`: networks that identify an account without a digest
  (ps_endpoint_id_ips rows for customers).
- `provisioning_state` and its triggers (db/provisioning_triggers.py): the counter the
  AMI listener polls instead of digesting every provisioned row.
- PostgreSQL: the PJSIP realtime views, dropped (if revision 0018 made them) and created
  from db/asterisk_views.py, now with ps_registrations. Rows are derived data: nothing
  is lost by recreating them. A downgrade leaves no views (0018's definitions are gone
  from the code): upgrade again to get them back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.asterisk_views import VIEWS, create_view_sql
from db.provisioning_triggers import create_triggers, drop_triggers
from db.types import UtcDateTime

revision = '0018b'
down_revision = "0018"
branch_labels = None
depends_on = None


def _drop_views() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for view in reversed(VIEWS):
            op.execute(f"DROP VIEW IF EXISTS {view.name}")


def upgrade() -> None:
    _drop_views()
    op.create_table(
        'account_source_ips',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=43), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('network'),
    )
    with op.batch_alter_table('account_source_ips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_source_ips_account_id'), ['account_id'], unique=False)
    op.create_table(
        'trunk_registrations',
        sa.Column('trunk_id', sa.Integer(), nullable=False),
        sa.Column('server_uri', sa.String(length=255), nullable=False),
        sa.Column('username', sa.String(length=40), nullable=False),
        sa.Column('realm', sa.String(length=255), nullable=False),
        sa.Column('md5_cred', sa.String(length=40), nullable=False),
        sa.Column('contact_user', sa.String(length=40), nullable=False),
        sa.Column('expiration', sa.Integer(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['trunk_id'], ['trunks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('trunk_id'),
    )
    op.create_table(
        'provisioning_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute("INSERT INTO provisioning_state (id, version) VALUES (1, 1)")
    create_triggers(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        for view in VIEWS:
            op.execute(create_view_sql(view))


def downgrade() -> None:
    _drop_views()
    drop_triggers(op.get_bind())
    op.drop_table('provisioning_state')
    op.drop_table('trunk_registrations')
    with op.batch_alter_table('account_source_ips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_source_ips_account_id'))
    op.drop_table('account_source_ips')
