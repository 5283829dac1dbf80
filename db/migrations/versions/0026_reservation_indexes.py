"""reservation indexes: two that no query needs dropped, two narrowed to what is asked

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 18:00:00

Every Authorize inserts an entry into each index of `reservations` (the partial ones
whose condition the row meets), and every settlement, whose status change is never a
HOT update, inserts one into each index again (a closed row is in none of the
partial ones on open rows):

- `ix_reservations_account_status` (account_id, status) is dropped: the queries by
  account all look at open rows (Authorize's concurrent calls and its chain's due
  rows, expiry), which the partial `ix_reservations_open_account` and
  `_open_account_expires` hold; no account is ever deleted (which would search the
  rows by account_id);
- `ix_reservations_status_expires` (status, expires_at) is dropped: expiry, the
  listener's hang-ups and slice extension look for open rows by `expires_at`, which the
  partial `ix_reservations_open_expires` holds;
- `ix_reservations_parent_id` holds the resellers' rows only (`parent_id IS NOT NULL`):
  every query on it asks for `parent_id = x` (the rows of a call), which implies it.
  The customer's rows (all of them at depth 0) were entries nobody read, and right
  after a burst of calls (a table nobody had analyzed yet) the planner took
  `parent_id IS NULL` for a rare value and read every customer row of the table through
  it to find a batch's 200 reservations by UniqueID.

- `ix_reservations_trunk_status` (trunk_id, status) becomes `ix_reservations_trunk_created`
  (trunk_id, created_at): the one query by trunk over rows of every status, the
  `balance` strategy's count of a trunk's calls since a moment (services/credit/
  routing.py `_first_offers`), asks for `created_at`, not `status` (the open calls of a
  trunk are in the partial `ix_reservations_open_trunk`); a trunk's delete still finds
  its rows by it. With no full index on `status` left, nothing looks like a way to a
  batch's open, expired or released reservations but `ix_reservations_uniqueid`: the
  planner read a whole index on `status` for them, by the same mistake as above.

No data changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

RESELLER_ROWS = "parent_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_reservations_account_status", table_name="reservations")
    op.drop_index("ix_reservations_status_expires", table_name="reservations")
    op.drop_index("ix_reservations_trunk_status", table_name="reservations")
    op.create_index(
        "ix_reservations_trunk_created", "reservations", ["trunk_id", "created_at"], unique=False
    )
    op.drop_index("ix_reservations_parent_id", table_name="reservations")
    op.create_index(
        "ix_reservations_parent_id",
        "reservations",
        ["parent_id"],
        unique=False,
        postgresql_where=sa.text(RESELLER_ROWS),
        sqlite_where=sa.text(RESELLER_ROWS),
    )


def downgrade() -> None:
    op.drop_index("ix_reservations_trunk_created", table_name="reservations")
    op.create_index(
        "ix_reservations_trunk_status", "reservations", ["trunk_id", "status"], unique=False
    )
    op.drop_index("ix_reservations_parent_id", table_name="reservations")
    op.create_index("ix_reservations_parent_id", "reservations", ["parent_id"], unique=False)
    op.create_index(
        "ix_reservations_account_status", "reservations", ["account_id", "status"], unique=False
    )
    op.create_index(
        "ix_reservations_status_expires", "reservations", ["status", "expires_at"], unique=False
    )
