"""audit events, login attempts, case-insensitive unique usernames

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-01 10:00:00

Existing logins that differ only by case (`Admin` beside `admin`) would break the new
unique key: the oldest keeps its name, each later one is renamed `<name>-<id>` (and the
rename is printed), so nobody is merged into somebody else's login.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0011'
down_revision = "0010"
branch_labels = None
depends_on = None


def _fill_username_keys() -> None:
    conn = op.get_bind()
    logins = sa.table(
        'logins', sa.column('id', sa.Integer), sa.column('username', sa.String),
        sa.column('username_key', sa.String),
    )
    rows = conn.execute(sa.select(logins.c.id, logins.c.username).order_by(logins.c.id)).all()
    taken: set[str] = set()
    for login_id, username in rows:
        name = username
        if name.casefold() in taken:
            name = f"{username[:70]}-{login_id}"
            print(f"login {login_id}: {username!r} clashes by case with an older login; renamed {name!r}")
        taken.add(name.casefold())
        conn.execute(
            logins.update().where(logins.c.id == login_id)
            .values(username=name, username_key=name.casefold())
        )


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', db.types.UtcDateTime(), nullable=False),
        sa.Column('operation', sa.String(length=80), nullable=False),
        sa.Column('login_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('actor_account_id', sa.Integer(), nullable=True),
        sa.Column('scope_path', sa.String(length=255), nullable=False),
        sa.Column('object_type', sa.String(length=40), nullable=False),
        sa.Column('object_id', sa.String(length=40), nullable=False),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_events_scope_path_id', ['scope_path', 'id'], unique=False)

    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', db.types.UtcDateTime(), nullable=False),
        sa.Column('username_key', sa.String(length=80), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('success', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_username_key_at', ['username_key', 'at'], unique=False)

    with op.batch_alter_table('logins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=80), nullable=True))
    _fill_username_keys()
    with op.batch_alter_table('logins', schema=None) as batch_op:
        batch_op.alter_column('username_key', existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_logins_username_key'), ['username_key'])


def downgrade() -> None:
    with op.batch_alter_table('logins', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_logins_username_key'), type_='unique')
        batch_op.drop_column('username_key')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_key_at')
        batch_op.drop_index('ix_login_attempts_address_at')
    op.drop_table('login_attempts')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_scope_path_id')
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
    op.drop_table('audit_events')
