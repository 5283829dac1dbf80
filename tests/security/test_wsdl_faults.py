"""Every operation of every WSDL declares the documented fault codes (wsdl:fault), so a
WSDL-driven client sees them; the list is the one docs/faults.md documents."""

from __future__ import annotations

import re
from pathlib import Path

import zeep

ROOT = Path(__file__).resolve().parents[2]


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "faults.md").read_text()
    return set(re.findall(r"^\| `((?:Client\.\w+)|Server)` \|", text, re.MULTILINE))


def test_every_operation_declares_every_documented_fault() -> None:
    codes = documented_codes()
    assert "Client.TooManyAttempts" in codes and "Server" in codes
    for name in ("billing", "config", "reseller", "cdr"):
        client = zeep.Client(str(ROOT / "wsdl" / f"{name}.wsdl"))
        for service in client.wsdl.services.values():
            for port in service.ports.values():
                for op_name, operation in port.binding._operations.items():
                    assert set(operation.faults) == codes, f"{name}.{op_name}"
