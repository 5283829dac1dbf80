"""What no client library would send: raw HTTP bodies against the live server.

Each must get a SOAP fault with a stable code (never an HTML page), and change nothing.
"""

from __future__ import annotations

import pytest
import requests
from lxml import etree

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]

ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def envelope(body: str, *, username: str = "admin", password: str = "admin") -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{ENV}" xmlns:b="urn:siptar:billing" '
        'xmlns:a="urn:siptar:auth"><soapenv:Header><a:Auth>'
        f"<a:username>{username}</a:username><a:password>{password}</a:password>"
        f"</a:Auth></soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )


def post(url: str, data: str | bytes) -> tuple[int, str, str]:
    """POST to billing; return (status, fault code without prefix, fault string)."""
    resp = requests.post(
        f"{url}/billing", data=data, timeout=30, headers={"Content-Type": "text/xml; charset=utf-8"}
    )
    assert resp.headers["Content-Type"].startswith("text/xml"), resp.text[:200]
    root = etree.fromstring(resp.content)
    fault = root.find(f".//{{{ENV}}}Fault")
    if fault is None:
        return resp.status_code, "", ""
    code = fault.findtext("faultcode") or ""
    return resp.status_code, code.rpartition(":")[2], fault.findtext("faultstring") or ""


def balance_of(url: str) -> str:
    """Alice's balance as the server writes it."""
    resp = requests.post(
        f"{url}/billing",
        timeout=30,
        data=envelope("<b:GetBalance><b:account_id>3</b:account_id></b:GetBalance>"),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    assert resp.status_code == 200
    found = etree.fromstring(resp.content).findtext(".//{urn:siptar:billing}balance")
    assert found is not None
    return found


class TestHostileXml:
    def test_an_entity_expansion_bomb_is_refused(self, server_url: str) -> None:
        bomb = (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            + envelope(
                "<b:AddPayment><b:account_id>5</b:account_id>"
                "<b:amount>1</b:amount><b:reference>&lol3;</b:reference>"
                "</b:AddPayment>"
            )
        )
        assert post(server_url, bomb)[:2] == (500, "Client.XMLSyntaxError")

    def test_an_external_entity_is_refused(self, server_url: str) -> None:
        xxe = (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + envelope("<b:GetBalance><b:account_id>&e;</b:account_id></b:GetBalance>")
        )
        status, code, text = post(server_url, xxe)
        assert (status, code) == (500, "Client.XMLSyntaxError")
        assert "root:" not in text

    def test_malformed_xml_is_a_client_fault(self, server_url: str) -> None:
        status, code, _ = post(server_url, envelope("<b:GetBalance>")[:-10])
        assert status == 500
        assert code.startswith("Client.")


class TestInvalidValues:
    @pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e3", "abc", ""])
    def test_a_non_decimal_amount_is_refused(self, server_url: str, amount: str) -> None:
        before = balance_of(server_url)
        body = (
            f"<b:AddPayment><b:account_id>3</b:account_id><b:amount>{amount}</b:amount>"
            "</b:AddPayment>"
        )
        assert post(server_url, envelope(body))[:2] == (500, "Client.SchemaValidationError")
        assert balance_of(server_url) == before

    def test_a_wrong_password_in_a_raw_request(self, server_url: str) -> None:
        status, code, _ = post(server_url, envelope("<b:GetBalance/>", password="nope"))
        assert (status, code) == (500, "Client.AuthenticationFailed")

    def test_an_unknown_operation_is_a_client_fault(self, server_url: str) -> None:
        status, code, _ = post(server_url, envelope("<b:DropTables/>"))
        assert status == 500
        assert code.startswith("Client.")
