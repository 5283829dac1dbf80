"""bundles: bundles, account bundles, per-period counters, holds of open calls, uses per CDR; ledger kind 'bundle'

Revision ID: 0020
Revises: 0013c
Create Date: 2026-12-01 15:55:16

New tables only (and one more ledger kind): data written before it is untouched, and
an account without bundles prices exactly as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = "0020"
down_revision = "0022"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment', 'tax', 'voucher')"
NEW_KINDS = (
    "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment', 'tax', 'voucher', 'bundle')"
)


def upgrade() -> None:
    op.create_table('bundles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('prefixes', sa.Text(), nullable=False),
    sa.Column('per_second', sa.Boolean(), nullable=False),
    sa.Column('carry_over', sa.Boolean(), nullable=False),
    sa.Column('inbound', sa.Boolean(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UtcDateTime(), nullable=False),
    sa.CheckConstraint("period IN ('daily', 'weekly', 'monthly')", name=op.f('ck_bundles_period')),
    sa.CheckConstraint("unit IN ('seconds', 'calls')", name=op.f('ck_bundles_unit')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bundles_quantity')),
    sa.ForeignKeyConstraint(['owner_id'], ['accounts.id'], name=op.f('fk_bundles_owner_id_accounts')),
    sa.ForeignKeyConstraint(['service_id'], ['catalog_services.id'], name=op.f('fk_bundles_service_id_catalog_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundles')),
    sa.UniqueConstraint('owner_id', 'name', name='uq_bundles_owner_name')
    )
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bundles_owner_id'), ['owner_id'], unique=False)

    op.create_table('account_bundles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('bundle_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=True),
    sa.Column('billing_day', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('created_at', db.types.UtcDateTime(), nullable=False),
    sa.CheckConstraint('billing_day BETWEEN 1 AND 31', name=op.f('ck_account_bundles_billing_day')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_bundles_account_id_accounts')),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], name=op.f('fk_account_bundles_bundle_id_bundles')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_account_bundles_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_bundles')),
    sa.UniqueConstraint('account_id', 'bundle_id', name='uq_account_bundles_account_bundle')
    )
    with op.batch_alter_table('account_bundles', schema=None) as batch_op:
        batch_op.create_index('ix_account_bundles_account_position', ['account_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_bundles_bundle_id'), ['bundle_id'], unique=False)

    op.create_table('bundle_counters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_bundle_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('consumed', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.CheckConstraint('consumed >= 0 AND reserved >= 0 AND consumed + reserved <= quantity', name=op.f('ck_bundle_counters_within_quantity')),
    sa.ForeignKeyConstraint(['account_bundle_id'], ['account_bundles.id'], name=op.f('fk_bundle_counters_account_bundle_id_account_bundles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundle_counters')),
    sa.UniqueConstraint('account_bundle_id', 'period_start', name='uq_bundle_counters_period')
    )
    op.create_table('bundle_holds',
    sa.Column('reservation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('counter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['counter_id'], ['bundle_counters.id'], name=op.f('fk_bundle_holds_counter_id_bundle_counters')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_bundle_holds_reservation_id_reservations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reservation_id', 'counter_id', name=op.f('pk_bundle_holds'))
    )
    op.create_table('bundle_uses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cdr_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('counter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('created_at', db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_bundle_uses_account_id_accounts')),
    sa.ForeignKeyConstraint(['counter_id'], ['bundle_counters.id'], name=op.f('fk_bundle_uses_counter_id_bundle_counters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundle_uses')),
    sa.UniqueConstraint('cdr_id', 'counter_id', name='uq_bundle_uses_cdr_counter')
    )
    with op.batch_alter_table('bundle_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bundle_uses_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bundle_uses_cdr_id'), ['cdr_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bundle_uses_counter_id'), ['counter_id'], unique=False)
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind"), NEW_KINDS)


def downgrade() -> None:
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_ledger_kind"), OLD_KINDS)
    with op.batch_alter_table('bundle_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bundle_uses_counter_id'))
        batch_op.drop_index(batch_op.f('ix_bundle_uses_cdr_id'))
        batch_op.drop_index(batch_op.f('ix_bundle_uses_account_id'))

    op.drop_table('bundle_uses')
    op.drop_table('bundle_holds')
    op.drop_table('bundle_counters')
    with op.batch_alter_table('account_bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_bundles_bundle_id'))
        batch_op.drop_index('ix_account_bundles_account_position')

    op.drop_table('account_bundles')
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bundles_owner_id'))

    op.drop_table('bundles')
