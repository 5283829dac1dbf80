"""SIP secrets (issue 11 item 9, issue 18): stored as Asterisk's md5_cred only, and
answered to nobody, not even the reseller that set them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from client import errors
from db.schema import Account
from tests.levels.conftest import Tree

pytestmark = pytest.mark.e2e
SECRET = "phone-s3cret-42"


def ha1(username: str, secret: str, realm: str = "siptar") -> str:
    return hashlib.md5(f"{username}:{realm}:{secret}".encode()).hexdigest()


def stored_row(session_factory: Callable[[], Session], account_id: int) -> dict[str, object]:
    with session_factory() as s:
        row = s.execute(text("SELECT * FROM accounts WHERE id = :id"), {"id": account_id})
        return dict(row.mappings().one())


class TestSipSecrets:
    def test_no_ancestor_and_not_the_account_itself_reads_the_secret_back(self, tree: Tree) -> None:
        c1 = tree.ids["C1"]
        set_ = tree.api("R2").reseller.SetTechDetails(
            account_id=c1, tech={"sip_username": "c1-phone", "sip_secret": SECRET}
        )
        assert (set_.sip_secret, set_.sip_secret_set, set_.sip_realm) == (None, True, "siptar")
        for who in ("R2", "R1", "admin", "C1"):
            got = tree.api(who).reseller.GetTechDetails(account_id=None if who == "C1" else c1)
            assert got.sip_username == "c1-phone", who
            assert got.sip_secret is None, who
            assert got.sip_secret_set is True, who

    def test_the_database_holds_the_digest_and_never_the_secret(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        c1 = tree.ids["C1"]
        tree.api("R2").reseller.SetTechDetails(
            account_id=c1, tech={"sip_username": "c1-phone", "sip_secret": SECRET}
        )
        row = stored_row(session_factory, c1)
        assert row["sip_md5_cred"] == ha1("c1-phone", SECRET)
        assert SECRET not in {str(v) for v in row.values()}

    def test_a_rename_needs_the_secret_again_and_an_empty_secret_clears_it(
        self, tree: Tree, session_factory: Callable[[], Session]
    ) -> None:
        r2, c1 = tree.api("R2").reseller, tree.ids["C1"]
        r2.SetTechDetails(account_id=c1, tech={"sip_username": "c1-phone", "sip_secret": SECRET})
        with pytest.raises(errors.InvalidInput, match="sip_secret"):
            r2.SetTechDetails(account_id=c1, tech={"sip_username": "c1-desk"})
        r2.SetTechDetails(account_id=c1, tech={"sip_username": "c1-desk", "sip_secret": SECRET})
        assert stored_row(session_factory, c1)["sip_md5_cred"] == ha1("c1-desk", SECRET)
        with pytest.raises(errors.InvalidInput, match="8 to 80"):
            r2.SetTechDetails(account_id=c1, tech={"sip_secret": "short"})
        cleared = r2.SetTechDetails(account_id=c1, tech={"sip_secret": ""})
        assert cleared.sip_secret_set is False
        with session_factory() as s:
            assert s.get(Account, c1).sip_md5_cred == ""  # type: ignore[union-attr]
