"""credit control by slices: reserved_seconds on reservations, per-account slice and
minimum call; the account's time zone (siptar init)

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 09:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_slice_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('min_call_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False)
        )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reserved_seconds', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.create_index(
            'ix_reservations_status_expires', ['status', 'expires_at'], unique=False
        )
    # A reservation made before slices held the cost of its whole max_seconds.
    op.execute("UPDATE reservations SET reserved_seconds = max_seconds")


def downgrade() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_reservations_status_expires')
        batch_op.drop_column('reserved_seconds')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('timezone')
        batch_op.drop_column('min_call_seconds')
        batch_op.drop_column('credit_slice_seconds')
