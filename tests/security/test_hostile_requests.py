"""Raw HTTP requests no client library would send, against the live server: each is
decided after decoding, answers a `Client.*` fault, and leaves nothing in the log that
it should not."""

from __future__ import annotations

import logging

import pytest
import requests
from lxml import etree

from tests.integration.test_bad_requests import ENV, balance_of, envelope

pytestmark = pytest.mark.usefixtures("demo")

XXE = (
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    + envelope("<b:GetBalance><b:account_id>&e;</b:account_id></b:GetBalance>")
)
GET_BALANCE = envelope("<b:GetBalance><b:account_id>3</b:account_id></b:GetBalance>")


def post(url: str, data: bytes, content_type: str = "text/xml; charset=utf-8") -> requests.Response:
    return requests.post(
        f"{url}/billing", data=data, timeout=30, headers={"Content-Type": content_type}
    )


def fault_of(resp: requests.Response) -> tuple[int, str, str]:
    """(status, fault code with its `Client.` part, fault string) of a SOAP fault."""
    assert resp.headers["Content-Type"].startswith("text/xml"), resp.text[:200]
    fault = etree.fromstring(resp.content).find(f".//{{{ENV}}}Fault")
    assert fault is not None, resp.text[:300]
    code = fault.findtext("faultcode") or ""
    return resp.status_code, code.rpartition(":")[2], fault.findtext("faultstring") or ""


class TestDecidedAfterDecoding:
    def test_an_xxe_body_in_utf16_is_refused_as_a_client_fault(self, server_url: str) -> None:
        for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            body = XXE.replace("UTF-16", encoding.upper()).encode(encoding)
            status, code, text = fault_of(post(server_url, body, "text/xml"))
            assert (status, code) == (500, "Client.XMLSyntaxError"), encoding
            assert "root:" not in text

    def test_a_utf16_request_is_served_like_a_utf8_one(self, server_url: str) -> None:
        body = ('<?xml version="1.0" encoding="UTF-16"?>' + GET_BALANCE).encode("utf-16")
        resp = post(server_url, body, "text/xml")
        assert resp.status_code == 200
        assert b"<tns:balance>10.000000</tns:balance>" in resp.content.replace(b"ns0", b"tns")

    def test_an_undecodable_body_is_a_client_fault(self, server_url: str) -> None:
        body = GET_BALANCE.encode().replace(b"account_id>3", b"account_id>\xff\xfe3")
        status, code, text = fault_of(post(server_url, body))
        assert (status, code) == (500, "Client.XMLSyntaxError")
        assert "utf-8" in text
        unknown = b'<?xml version="1.0" encoding="x-nothing"?>' + GET_BALANCE.encode()
        assert fault_of(post(server_url, unknown, "text/xml"))[1] == "Client.XMLSyntaxError"


class TestAmbiguities:
    def test_two_auth_headers_are_refused(self, server_url: str) -> None:
        one = "<a:Auth><a:username>customer</a:username><a:password>customer</a:password></a:Auth>"
        two = GET_BALANCE.replace("<soapenv:Header>", f"<soapenv:Header>{one}")
        status, code, text = fault_of(post(server_url, two.encode()))
        assert (status, code) == (500, "Client.InvalidInput")
        assert "one Auth header" in text

    def test_a_json_content_type_is_refused(self, server_url: str) -> None:
        resp = post(server_url, GET_BALANCE.encode(), "application/json")
        assert resp.status_code == 415
        assert fault_of(resp)[1] == "Client.InvalidInput"
        assert balance_of(server_url) == "10.000000"


class TestLogging:
    def test_a_malformed_body_leaves_no_password_and_no_body_in_the_log(
        self, server_url: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        secret = "s3cret-Pa55word"
        broken = envelope("<b:GetBalance>", password=secret)[:-10] + "x" * 5_000_000
        status, code, _ = fault_of(post(server_url, broken.encode()))
        assert (status, code) == (500, "Client.XMLSyntaxError")
        assert secret not in caplog.text
        assert "xxxxxxxxxx" not in caplog.text
        assert len(caplog.text) < 20_000
