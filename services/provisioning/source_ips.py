"""IP-authenticated customers: the networks whose calls are an account's without a SIP
digest (Asterisk's `identify`, the ps_endpoint_id_ips rows of db/asterisk_views.py).
No spyne here; the SOAP edge is services/reseller/asterisk_service.py.

A network names one account: a new one may not overlap any network of another account
(Asterisk would pick either, and bill the wrong customer). Networks wider than /16
(IPv4) or /32 (IPv6) are refused: a whole provider's range on one account lets every
caller in it call on that account's money.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from sqlalchemy import delete, select

from db.provisioning_schema import AccountSourceIp
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput
from services.common.caller import Caller, managed_account, require_role, visible_account

MAX_NETWORKS = 20
WIDEST = {4: 16, 6: 32}  # the smallest prefix length allowed, per IP version

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(value: str) -> Network:
    """One address ("192.0.2.7" is 192.0.2.7/32) or CIDR network, host bits clear."""
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as e:
        raise InvalidInput(f"ips: {text[:50]!r} is not an address or a network ({e})") from None
    if network.prefixlen < WIDEST[network.version]:
        raise InvalidInput(
            f"ips: {network} is wider than /{WIDEST[network.version]}; name the "
            "customer's own addresses"
        )
    return network


def source_ips(uow: UnitOfWork, caller: Caller, account_id: int | None) -> list[str]:
    account = visible_account(uow.session, caller, account_id)
    return _networks(uow, account.id)


def set_source_ips(
    uow: UnitOfWork, caller: Caller, account_id: int, values: Sequence[str]
) -> list[str]:
    """Replace the account's networks (an empty list: identified by its digest only).
    Asterisk sees the change at once: the views read these rows on every request."""
    require_role(caller, "admin", "reseller")
    account = managed_account(uow.session, caller, account_id)
    if account.status == "closed":
        raise InvalidInput(f"account {account.id} is closed")
    wanted = sorted({parse_network(v) for v in values if v.strip()}, key=_order)
    if len(wanted) > MAX_NETWORKS:
        raise InvalidInput(f"ips: at most {MAX_NETWORKS} networks per account")
    if wanted and account.sip_username is None:
        raise InvalidInput("ips: set a sip_username first (it names the endpoint)")
    others = uow.session.scalars(
        select(AccountSourceIp.network).where(AccountSourceIp.account_id != account.id)
    )
    taken = [ipaddress.ip_network(n) for n in others]
    for network in wanted:
        if any(network.version == t.version and network.overlaps(t) for t in taken):
            raise AlreadyExists(f"ips: {network} overlaps a network of another account")
    session = uow.session
    session.execute(delete(AccountSourceIp).where(AccountSourceIp.account_id == account.id))
    session.add_all(AccountSourceIp(account_id=account.id, network=str(n)) for n in wanted)
    session.flush()
    result = _networks(uow, account.id)
    uow.commit()
    return result


def _order(network: Network) -> tuple[int, int, int]:
    return (network.version, int(network.network_address), network.prefixlen)


def _networks(uow: UnitOfWork, account_id: int) -> list[str]:
    rows = uow.session.scalars(
        select(AccountSourceIp.network).where(AccountSourceIp.account_id == account_id)
    )
    return [str(n) for n in sorted((ipaddress.ip_network(r) for r in rows), key=_order)]
