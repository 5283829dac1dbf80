"""`accounts.reserved`: the money of an account's open reservations, kept by the database.

Authorize reads it in the statement that locks the chain instead of summing every open
reservation of every level (that sum grew with the open calls: +5 ms at 10,000 open on a
reseller). A trigger on `reservations` keeps it, so every writer keeps it whatever its
code: Authorize's INSERT, settlement, release, expiry, the slice extension's UPDATE of
amounts, and any writer added later. The trigger updates the account row in the writer's
transaction; Authorize, settlement (after the ledger's charges) and the extension hold
those rows already, and expiry and release lock them first in the fixed order
(services/credit/locks.py), so the trigger's row locks add no wait in a cycle.

An amount counts while its row is `open`: an INSERT of an open row adds it, an UPDATE
moves the difference (a new amount, another status or account), a DELETE takes it back.
On SQLite, amounts are integers of millionths in both columns (db/types.Money), so the
trigger's sums are exact there too.
"""

from __future__ import annotations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION siptar_reservations_held() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'open' AND NEW.status = 'open'
            AND OLD.account_id = NEW.account_id THEN
        IF NEW.amount <> OLD.amount THEN
            UPDATE accounts SET reserved = reserved + (NEW.amount - OLD.amount)
            WHERE id = NEW.account_id;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'open' THEN
        UPDATE accounts SET reserved = reserved - OLD.amount WHERE id = OLD.account_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'open' THEN
        UPDATE accounts SET reserved = reserved + NEW.amount WHERE id = NEW.account_id;
    END IF;
    RETURN NULL;
END
$$
"""

PG_TRIGGER = """
CREATE TRIGGER reservations_held
AFTER INSERT OR DELETE OR UPDATE OF status, amount, account_id ON reservations
FOR EACH ROW EXECUTE FUNCTION siptar_reservations_held()
"""

PG_DROP = (
    "DROP TRIGGER IF EXISTS reservations_held ON reservations",
    "DROP FUNCTION IF EXISTS siptar_reservations_held()",
)

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER reservations_held_insert AFTER INSERT ON reservations
    WHEN NEW.status = 'open'
    BEGIN
        UPDATE accounts SET reserved = reserved + NEW.amount WHERE id = NEW.account_id;
    END
    """,
    """
    CREATE TRIGGER reservations_held_update
    AFTER UPDATE OF status, amount, account_id ON reservations
    WHEN OLD.status = 'open' OR NEW.status = 'open'
    BEGIN
        UPDATE accounts SET reserved = reserved - OLD.amount
        WHERE id = OLD.account_id AND OLD.status = 'open';
        UPDATE accounts SET reserved = reserved + NEW.amount
        WHERE id = NEW.account_id AND NEW.status = 'open';
    END
    """,
    """
    CREATE TRIGGER reservations_held_delete AFTER DELETE ON reservations
    WHEN OLD.status = 'open'
    BEGIN
        UPDATE accounts SET reserved = reserved - OLD.amount WHERE id = OLD.account_id;
    END
    """,
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS reservations_held_insert",
    "DROP TRIGGER IF EXISTS reservations_held_update",
    "DROP TRIGGER IF EXISTS reservations_held_delete",
)

# From the rows already there (a migration, or a repair after a manual change).
BACKFILL = """
UPDATE accounts SET reserved = COALESCE(
    (SELECT SUM(r.amount) FROM reservations r
     WHERE r.account_id = accounts.id AND r.status = 'open'), 0)
"""


def create_sql(dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return (PG_FUNCTION, PG_TRIGGER)
    return SQLITE_TRIGGERS


def drop_sql(dialect: str) -> tuple[str, ...]:
    return PG_DROP if dialect == "postgresql" else SQLITE_DROP
