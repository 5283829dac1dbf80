"""calling cards and caller ids

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:42:53.762381
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pin_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('created_at', db.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['accounts.id'], name=op.f('fk_pin_lots_owner_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pin_lots'))
    )
    with op.batch_alter_table('pin_lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pin_lots_owner_id'), ['owner_id'], unique=False)

    op.create_table('account_callerids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('callerid', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_callerids_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_callerids')),
    sa.UniqueConstraint('callerid', name=op.f('uq_account_callerids_callerid'))
    )
    with op.batch_alter_table('account_callerids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_callerids_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('lot_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sip_username', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('sip_secret', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('restrict_ani', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('allowed_dnis', sa.String(length=255), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_accounts_lot_id'), ['lot_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_accounts_pin'), ['pin'])
        batch_op.create_unique_constraint(batch_op.f('uq_accounts_sip_username'), ['sip_username'])
        batch_op.create_foreign_key(batch_op.f('fk_accounts_lot_id_pin_lots'), 'pin_lots', ['lot_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_accounts_lot_id_pin_lots'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_accounts_sip_username'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_accounts_pin'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_accounts_lot_id'))
        batch_op.drop_column('allowed_dnis')
        batch_op.drop_column('restrict_ani')
        batch_op.drop_column('sip_secret')
        batch_op.drop_column('sip_username')
        batch_op.drop_column('lot_id')
        batch_op.drop_column('pin')

    with op.batch_alter_table('account_callerids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_callerids_account_id'))

    op.drop_table('account_callerids')
    with op.batch_alter_table('pin_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pin_lots_owner_id'))

    op.drop_table('pin_lots')
