"""What the README's "first hour" says of the shipped Master.csv on the demo: which rows
come out unrated and why (README.md, "What the demo leaves unrated, and why")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ami_listener.csv_import import import_csv
from db.schema import Cdr

MASTER_CSV = Path(__file__).parents[1] / "fixtures" / "ami" / "Master.csv"


def test_the_unrated_rows_are_the_ones_the_readme_lists(
    demo: None, session_factory: Callable[[], Session]
) -> None:
    report = import_csv(session_factory, MASTER_CSV.read_text(), UTC)
    assert (report.rows, report.rated, report.unrated) == (57, 35, 22)
    with session_factory() as s:
        unrated = s.execute(
            select(Cdr.accountcode, Cdr.dst, Cdr.unrated_reason).where(Cdr.status == "unrated")
        ).all()
    why = Counter(
        (code, "no account" if "no account" in reason else "no rate") for code, _, reason in unrated
    )
    assert why == {
        ("acct1004", "no account"): 7,
        ("acct1005", "no account"): 6,
        ("", "no account"): 5,
        ("acct1001", "no rate"): 4,
    }
    assert {dst for code, dst, _ in unrated if code == "acct1001"} == {"201", "600"}
    assert {dst for code, dst, _ in unrated if code == ""} == {"101", "102", "103", "104"}
    assert {dst for code, dst, _ in unrated if code == "acct1005"} == {"5001"}
