"""The committed WSDLs equal the code's, the served ones are pinned, and a second,
strict SOAP stack (suds) reads them and calls the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from services.common.wsdl_files import wsdl_documents

WSDL_DIR = Path(__file__).resolve().parents[2] / "wsdl"
NAMES = ("billing", "config", "reseller", "cdr")


def test_the_committed_wsdls_equal_the_code() -> None:
    docs = wsdl_documents()
    assert sorted(docs) == sorted(NAMES)
    for name, text in docs.items():
        committed = (WSDL_DIR / f"{name}.wsdl").read_bytes()
        assert text == committed, f"wsdl/{name}.wsdl is stale: run `make wsdl`"


def test_building_the_wsdls_twice_gives_the_same_bytes() -> None:
    assert wsdl_documents() == wsdl_documents()


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_forged_host_header_does_not_change_the_served_address(server_url: str) -> None:
    forged = requests.get(
        f"{server_url}/billing?wsdl", headers={"Host": "evil.example"}, timeout=10
    )
    honest = requests.get(f"{server_url}/billing?wsdl", timeout=10)
    assert forged.status_code == 200
    assert f'location="{server_url}/billing"' in forged.text
    assert forged.content == honest.content


@pytest.mark.e2e
@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_suds_reads_every_wsdl_and_calls_the_server(server_url: str) -> None:
    from suds.client import Client

    for name in NAMES:
        client = Client(f"{server_url}/{name}?wsdl", cache=None)
        auth = client.factory.create("{urn:siptar:auth}Auth")
        auth.username, auth.password = "admin", "admin"
        client.set_options(soapheaders=auth)
        if name == "billing":
            balance = client.service.GetBalance()
            assert balance.name == "Operator"


@pytest.mark.parametrize("seed", ["1", "4242"])
def test_another_process_with_another_hash_seed_writes_the_same_files(
    tmp_path: Path, seed: str
) -> None:
    # spyne's prefix numbering once depended on set order: CI saw a stale-WSDL failure
    # that a developer's run did not.
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run(
        [sys.executable, "-m", "cli", "wsdl", "--out", str(tmp_path)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in NAMES:
        assert (tmp_path / f"{name}.wsdl").read_bytes() == (WSDL_DIR / f"{name}.wsdl").read_bytes()
