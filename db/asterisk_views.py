"""What Asterisk's PJSIP realtime (Sorcery) reads: ps_endpoints, ps_auths, ps_aors and
ps_endpoint_id_ips, derived from the accounts and trunks. One definition, two uses:

- PostgreSQL (production): views of these names (migration 0018), each column cast to
  the exact type of Asterisk 22's own table (contrib/ast-db-manage), so res_config_pgsql
  reads them as it reads its tables. `typed=True`.
- SQLite and `siptar asterisk export-pjsip`: the same selects, run directly, written as
  a pjsip.conf include. `typed=False`.

Only the columns SipTar fills are listed; Asterisk takes every other one from its
defaults. Who is provisioned: `provisioned_accounts()`; an account leaves the views the
moment it (or any account above it) stops being active, so Asterisk (without a sorcery
cache) refuses its next REGISTER or INVITE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from db.schema import Account, AccountCallerId, Provider, Trunk

# The dialplan contexts of docs/asterisk/extensions.conf.
CUSTOMER_CONTEXT = "siptar-customers"
TRUNK_CONTEXT = "siptar-from-trunks"
CODECS = "ulaw,alaw,g722"
QUALIFY_SECONDS = 60

# Asterisk 22's PostgreSQL enum types these views use (values as Asterisk defines them).
ENUMS = {
    "ast_bool_values": ("0", "1", "off", "on", "false", "true", "no", "yes"),
    "pjsip_auth_type_values_v2": ("md5", "userpass", "google_oauth"),
    "pjsip_dtmf_mode_values_v3": ("rfc4733", "inband", "info", "auto", "auto_info"),
}


def _enum(name: str) -> postgresql.ENUM:
    return postgresql.ENUM(*ENUMS[name], name=name, create_type=False)


AST_BOOL = _enum("ast_bool_values")
AUTH_TYPE = _enum("pjsip_auth_type_values_v2")
DTMF_MODE = _enum("pjsip_dtmf_mode_values_v3")

Typer = Callable[[Any, Any], Any]
Query = sa.Select[Any] | sa.CompoundSelect[Any]


def _typer(typed: bool) -> Typer:
    if typed:
        return lambda expr, type_: sa.cast(expr, type_)
    return lambda expr, type_: expr


def _text(value: str) -> Any:
    return sa.literal(value, sa.Text)


def _null() -> Any:
    return sa.null()


class InactiveAbove(ColumnElement[bool]):
    """True when the account itself or one above it is not active. The ancestors are
    the ids of `accounts.path` ("/1/4/9/"): one primary-key lookup each, so Asterisk's
    lookup of one endpoint stays one index probe per level, however many accounts."""

    inherit_cache = True
    type = sa.Boolean()


@compiles(InactiveAbove, "postgresql")
def _inactive_above_pg(element: InactiveAbove, compiler: Any, **kw: Any) -> str:
    return (
        "EXISTS (SELECT 1 FROM accounts AS above WHERE above.id = ANY ("
        "string_to_array(btrim(accounts.path, '/'), '/')::integer[]) "
        "AND above.status <> 'active')"
    )


@compiles(InactiveAbove)
def _inactive_above(element: InactiveAbove, compiler: Any, **kw: Any) -> str:
    # SQLite: the path's ids as a JSON array (json_each is built in).
    return (
        "EXISTS (SELECT 1 FROM json_each('[' || replace(trim(accounts.path, '/'), '/', ',')"
        " || ']') AS up JOIN accounts AS above ON above.id = up.value "
        "WHERE above.status <> 'active')"
    )


def provisioned_accounts() -> ColumnElement[bool]:
    """The accounts Asterisk may see: a SIP name and secret, active, and every account
    above them active too (blocking a reseller takes its customers' phones off).

    Issue 12's "suspended" state: any status but 'active' already excludes; a separate
    suspension flag, if one comes, belongs in this condition and nowhere else."""
    return sa.and_(
        Account.sip_username.is_not(None),
        Account.sip_md5_cred != "",
        Account.status == "active",
        ~InactiveAbove(),
    )


def provisioned_trunks() -> ColumnElement[bool]:
    return sa.and_(Trunk.sip_host != "", Trunk.status == "active", Provider.status == "active")


def _trunks() -> sa.Select[Any]:
    return sa.select().select_from(Trunk).join(Provider, Provider.id == Trunk.provider_id)


def endpoints(typed: bool) -> Query:
    t = _typer(typed)
    first_callerid = (
        sa.select(sa.func.min(AccountCallerId.callerid))
        .where(AccountCallerId.account_id == Account.id)
        .scalar_subquery()
    )
    v40, v80, v200, v255 = sa.String(40), sa.String(80), sa.String(200), sa.String(255)
    accounts = sa.select(
        t(Account.sip_username, v255).label("id"),
        t(Account.sip_username, sa.String(2048)).label("aors"),
        t(Account.sip_username, v255).label("auth"),
        t(_text(CUSTOMER_CONTEXT), v40).label("context"),
        t(_text("all"), v200).label("disallow"),
        t(_text(CODECS), v200).label("allow"),
        t(_text("no"), AST_BOOL).label("direct_media"),
        t(_text("rfc4733"), DTMF_MODE).label("dtmf_mode"),
        t(_text("yes"), AST_BOOL).label("force_rport"),
        t(_text("yes"), AST_BOOL).label("rewrite_contact"),
        t(_text("yes"), AST_BOOL).label("rtp_symmetric"),
        t(sa.func.substr("<" + first_callerid + ">", 1, 40), v40).label("callerid"),
        t(Account.accountcode, v80).label("accountcode"),
        # What the dialplan reads (CHANNEL(endpoint) would need a lookup otherwise).
        t("SIPTAR_ACCOUNT_ID=" + sa.cast(Account.id, sa.String), sa.Text).label("set_var"),
        t(Account.max_concurrent_calls, sa.Integer).label("device_state_busy_at"),
    ).where(provisioned_accounts())
    trunks = _trunks().add_columns(
        t(Trunk.name, v255),
        t(Trunk.name, sa.String(2048)),
        t(_null(), v255),
        t(_text(TRUNK_CONTEXT), v40),
        t(_text("all"), v200),
        t(_text(CODECS), v200),
        t(_text("no"), AST_BOOL),
        t(_text("rfc4733"), DTMF_MODE),
        t(_text("no"), AST_BOOL),
        t(_text("no"), AST_BOOL),
        t(_text("no"), AST_BOOL),
        t(_null(), v40),
        t(_null(), v80),
        t("SIPTAR_TRUNK_ID=" + sa.cast(Trunk.id, sa.String), sa.Text),
        t(Trunk.channel_limit, sa.Integer),
    )
    return accounts.union_all(trunks.where(provisioned_trunks()))


def auths(typed: bool) -> Query:
    t = _typer(typed)
    return sa.select(
        t(Account.sip_username, sa.String(255)).label("id"),
        t(_text("md5"), AUTH_TYPE).label("auth_type"),
        t(Account.sip_md5_cred, sa.String(40)).label("md5_cred"),
        t(Account.sip_realm, sa.String(255)).label("realm"),
        t(Account.sip_username, sa.String(40)).label("username"),
    ).where(provisioned_accounts())


def aors(typed: bool) -> Query:
    t = _typer(typed)
    accounts = sa.select(
        t(Account.sip_username, sa.String(255)).label("id"),
        t(_null(), sa.String(255)).label("contact"),
        t(sa.literal(1), sa.Integer).label("max_contacts"),
        t(_text("yes"), AST_BOOL).label("remove_existing"),
        t(sa.literal(QUALIFY_SECONDS), sa.Integer).label("qualify_frequency"),
    ).where(provisioned_accounts())
    trunks = _trunks().add_columns(
        t(Trunk.name, sa.String(255)),
        t("sip:" + Trunk.sip_host, sa.String(255)),
        t(sa.literal(0), sa.Integer),
        t(_text("no"), AST_BOOL),
        t(sa.literal(QUALIFY_SECONDS), sa.Integer),
    )
    return accounts.union_all(trunks.where(provisioned_trunks()))


def endpoint_id_ips(typed: bool) -> Query:
    """Calls from a provider's host are its trunk's (DIDs in); no digest for those."""
    t = _typer(typed)
    return (
        _trunks()
        .add_columns(
            t(Trunk.name, sa.String(255)).label("id"),
            t(Trunk.name, sa.String(255)).label("endpoint"),
            t(Trunk.sip_host, sa.String(80)).label("match"),
        )
        .where(provisioned_trunks())
    )


@dataclass(frozen=True)
class View:
    name: str  # Asterisk's table name
    select: Callable[[bool], Query]
    section_type: str  # the `type =` of a pjsip.conf section


VIEWS = (
    View("ps_endpoints", endpoints, "endpoint"),
    View("ps_auths", auths, "auth"),
    View("ps_aors", aors, "aor"),
    View("ps_endpoint_id_ips", endpoint_id_ips, "identify"),
)


def create_view_sql(view: View) -> str:
    """CREATE VIEW for PostgreSQL, with literal values inlined (a view has no binds)."""
    compiled = view.select(True).compile(
        dialect=postgresql.dialect(),
        compile_kwargs={"literal_binds": True},
    )
    return f"CREATE VIEW {view.name} AS {compiled}"
