"""The client address the login throttle counts: REMOTE_ADDR, or behind a trusted
proxy the address that proxy added to X-Forwarded-For."""

from __future__ import annotations

from services.common.wsgi import SoapGuard


def guard(*proxies: str) -> SoapGuard:
    return SoapGuard(lambda e, s: [], trusted_proxies=frozenset(proxies))


def test_without_a_trusted_proxy_the_header_is_ignored() -> None:
    env = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}
    assert guard().client_address(env) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_last_forwarded_address_counts() -> None:
    env = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.9.9.9, 198.51.100.4"}
    assert guard("127.0.0.1").client_address(env) == "198.51.100.4"
    assert guard("127.0.0.1").client_address({"REMOTE_ADDR": "127.0.0.1"}) == "127.0.0.1"
