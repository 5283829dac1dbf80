"""A CDR as the AMI listener builds it: a 125 s answered call to Spain (34) carried by
the demo trunk carrier1 (tests/currency and bench/bench_fx.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.cdr.commands import CdrRecord


def spain_call(uniqueid: str, accountcode: str, answer: datetime) -> CdrRecord:
    return CdrRecord(
        uniqueid=uniqueid,
        sequence=1,
        accountcode=accountcode,
        src="100",
        dst="34911234567",
        dcontext="outbound",
        callerid="",
        channel="PJSIP/100-00000001",
        dstchannel="PJSIP/carrier1-00000002",
        lastapp="Dial",
        lastdata="",
        start=answer - timedelta(seconds=5),
        answer=answer,
        end=answer + timedelta(seconds=125),
        duration=130,
        billsec=125,
        disposition="ANSWERED",
    )
