"""asterisk provisioning: SIP secrets kept as md5_cred only, trunk hosts, PJSIP views

Revision ID: 0018
Revises: 0007
Create Date: 2026-12-01 10:10:00

Secrets stored before this revision are turned into md5_cred (realm "siptar") and the
plain column is dropped: phones keep registering, and nobody can read a secret back.
A downgrade cannot restore them (the column comes back empty).

PostgreSQL also gets the three Asterisk enum types the PJSIP realtime views use; the
views (db/asterisk_views.py) are created by revision 0018b, which drops and creates
them again on databases that got them from an earlier copy of this revision. A later
change of those selects moves their creation to a revision of its own the same way.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

from db.asterisk_views import ENUMS, VIEWS

revision = '0018'
down_revision = "0013"
branch_labels = None
depends_on = None

REALM = "siptar"


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sip_md5_cred', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sip_realm', sa.String(length=255), server_default=REALM, nullable=False))
    with op.batch_alter_table('trunks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sip_host', sa.String(length=255), server_default='', nullable=False))
    _hash_existing_secrets()
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('sip_secret')
    if op.get_bind().dialect.name == "postgresql":
        for name, values in ENUMS.items():
            quoted = ", ".join(f"'{v}'" for v in values)
            # Asterisk's own migrations may have created it in this database already.
            op.execute(
                f"DO $$ BEGIN CREATE TYPE {name} AS ENUM ({quoted}); "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        # The views themselves are made by the newest revision that changes them
        # (0018b), from db/asterisk_views.py as it is now: run here, that code would
        # name tables this revision does not have yet.


def _hash_existing_secrets() -> None:
    bind = op.get_bind()
    accounts = sa.table(
        'accounts',
        sa.column('id', sa.Integer),
        sa.column('sip_username', sa.String),
        sa.column('sip_secret', sa.String),
        sa.column('sip_md5_cred', sa.String),
    )
    rows = bind.execute(
        sa.select(accounts.c.id, accounts.c.sip_username, accounts.c.sip_secret).where(
            accounts.c.sip_username.is_not(None), accounts.c.sip_secret != ''
        )
    ).all()
    for account_id, username, secret in rows:
        ha1 = hashlib.md5(f"{username}:{REALM}:{secret}".encode()).hexdigest()
        bind.execute(
            accounts.update().where(accounts.c.id == account_id).values(sip_md5_cred=ha1)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for view in reversed(VIEWS):
            op.execute(f"DROP VIEW IF EXISTS {view.name}")
    with op.batch_alter_table('trunks', schema=None) as batch_op:
        batch_op.drop_column('sip_host')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sip_secret', sa.String(length=80), server_default='', nullable=False))
        batch_op.drop_column('sip_realm')
        batch_op.drop_column('sip_md5_cred')
