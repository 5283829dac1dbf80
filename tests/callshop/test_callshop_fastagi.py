"""A booth's call over FastAGI (a real TCP socket): refused while the booth is locked
or has no session, allowed with an open one. The dialplan passes the booth's endpoint
as the second argument (docs/dialplan.md, "Call-shop booths")."""

from __future__ import annotations

import pytest

from tests.callshop.conftest import Shop
from tests.credit.test_fastagi import agi, agi_call, environment

pytestmark = pytest.mark.e2e
__all__ = ["agi"]  # the FastAGI server fixture, shared


def booth_env(peer: str) -> dict[str, str]:
    return environment(
        agi_channel=f"PJSIP/{peer}-0000000a",
        agi_accountcode="shop1",
        agi_arg_1="34911234567",
        agi_arg_2=peer,
    )


async def test_a_locked_booth_is_refused_by_fastagi(shop: Shop, agi: int) -> None:
    got = await agi_call(agi, booth_env("booth1"))
    assert (got["SIPTAR_ALLOWED"], got["SIPTAR_REASON"]) == ("0", "BoothLocked")  # no session
    shop.api.billing.OpenBoothSession(booth_id=shop.booths["booth1"])
    got = await agi_call(agi, booth_env("booth1"))
    assert (got["SIPTAR_ALLOWED"], got["SIPTAR_REASON"]) == ("1", "OK")
    assert got["SIPTAR_DIALSTR"] == "PJSIP/34911234567@carrier1"
    shop.api.billing.LockBooth(booth_id=shop.booths["booth1"])
    got = await agi_call(agi, booth_env("booth1"))
    assert (got["SIPTAR_ALLOWED"], got["SIPTAR_REASON"], got["SIPTAR_DIALSTR"]) == (
        "0",
        "BoothLocked",
        "",
    )
    # Without the booth's endpoint, the shop's accountcode alone names no booth.
    got = await agi_call(agi, booth_env("booth1") | {"agi_arg_2": ""})
    assert (got["SIPTAR_ALLOWED"], got["SIPTAR_REASON"]) == ("0", "BoothRequired")
