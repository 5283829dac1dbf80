"""What Asterisk's PJSIP realtime (Sorcery) reads: ps_endpoints, ps_auths, ps_aors,
ps_endpoint_id_ips and ps_registrations, derived from the accounts (with their source
networks) and the trunks (with their outbound registrations). One definition, two uses:

- PostgreSQL (production): views of these names (migration 0018b), each column cast to
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
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from db.provisioning_schema import AccountSourceIp, TrunkRegistration
from db.schema import Account, AccountCallerId, Provider, Trunk

# The dialplan contexts of docs/asterisk/extensions.conf.
CUSTOMER_CONTEXT = "siptar-customers"
TRUNK_CONTEXT = "siptar-from-trunks"
CODECS = "ulaw,alaw,g722"
QUALIFY_SECONDS = 60
# Outbound registration: retry a failed REGISTER after 60 s, a refused one after 5 min.
RETRY_SECONDS = 60
FORBIDDEN_RETRY_SECONDS = 300

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


def _if(condition: ColumnElement[bool], value: Any) -> Any:
    """`value` where the condition holds, else NULL (Asterisk's "not set")."""
    return sa.case((condition, value), else_=sa.null())


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


def _has_source_ip() -> ColumnElement[bool]:
    # An alias: the identify rows join account_source_ips themselves.
    ip = aliased(AccountSourceIp)
    return sa.exists().where(ip.account_id == Account.id).correlate(Account)


def provisioned_accounts() -> ColumnElement[bool]:
    """The accounts Asterisk may see: a SIP name, a secret or a source network (or
    both), active, and every account above them active too (blocking a reseller takes
    its customers' phones off).

    Issue 12's "suspended" state: any status but 'active' already excludes; a separate
    suspension flag, if one comes, belongs in this condition and nowhere else."""
    return sa.and_(
        Account.sip_username.is_not(None),
        sa.or_(Account.sip_md5_cred != "", _has_source_ip()),
        Account.status == "active",
        ~InactiveAbove(),
    )


def provisioned_trunks() -> ColumnElement[bool]:
    return sa.and_(Trunk.sip_host != "", Trunk.status == "active", Provider.status == "active")


def _trunks() -> sa.Select[Any]:
    return sa.select().select_from(Trunk).join(Provider, Provider.id == Trunk.provider_id)


def _registering_trunks() -> sa.Select[Any]:
    """Provisioned trunks with an outbound registration (and so an outbound auth)."""
    return _trunks().join(TrunkRegistration, TrunkRegistration.trunk_id == Trunk.id)


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
        # No auth for an account identified by its source address only.
        t(_if(Account.sip_md5_cred != "", Account.sip_username), v255).label("auth"),
        t(_null(), v255).label("outbound_auth"),
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
    registered = sa.exists().where(TrunkRegistration.trunk_id == Trunk.id)
    trunks = _trunks().add_columns(
        t(Trunk.name, v255),
        t(Trunk.name, sa.String(2048)),
        t(_null(), v255),
        # The provider may challenge our INVITEs too: answer with the registration's auth.
        t(_if(registered, Trunk.name), v255),
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
    """Phones' digests (inbound), and trunks' registration credentials (outbound: an
    md5_cred answers a provider's challenge of that realm without the plain secret)."""
    t = _typer(typed)
    accounts = sa.select(
        t(Account.sip_username, sa.String(255)).label("id"),
        t(_text("md5"), AUTH_TYPE).label("auth_type"),
        t(Account.sip_md5_cred, sa.String(40)).label("md5_cred"),
        t(Account.sip_realm, sa.String(255)).label("realm"),
        t(Account.sip_username, sa.String(40)).label("username"),
    ).where(provisioned_accounts(), Account.sip_md5_cred != "")
    trunks = _registering_trunks().add_columns(
        t(Trunk.name, sa.String(255)),
        t(_text("md5"), AUTH_TYPE),
        t(TrunkRegistration.md5_cred, sa.String(40)),
        t(TrunkRegistration.realm, sa.String(255)),
        t(TrunkRegistration.username, sa.String(40)),
    )
    return accounts.union_all(trunks.where(provisioned_trunks()))


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
    """Calls from a provider's host are its trunk's (DIDs in), and calls from a
    customer's source network are that customer's; no digest for those. One row per
    network of an account, named `<sip name>-ip<n>` (n: the network's row id)."""
    t = _typer(typed)
    accounts = (
        sa.select()
        .select_from(Account)
        .join(AccountSourceIp, AccountSourceIp.account_id == Account.id)
        .add_columns(
            t(
                Account.sip_username + "-ip" + sa.cast(AccountSourceIp.id, sa.String),
                sa.String(255),
            ).label("id"),
            t(Account.sip_username, sa.String(255)).label("endpoint"),
            t(AccountSourceIp.network, sa.String(80)).label("match"),
        )
        .where(provisioned_accounts())
    )
    trunks = _trunks().add_columns(
        t(Trunk.name, sa.String(255)),
        t(Trunk.name, sa.String(255)),
        t(Trunk.sip_host, sa.String(80)),
    )
    return accounts.union_all(trunks.where(provisioned_trunks()))


def registrations(typed: bool) -> Query:
    """Outbound REGISTERs of the trunks whose provider needs one. `line` + `endpoint`:
    the provider's calls to the registered contact are the trunk's, whatever address
    they come from."""
    t = _typer(typed)
    v255 = sa.String(255)
    r = TrunkRegistration
    return (
        _registering_trunks()
        .add_columns(
            t(Trunk.name, v255).label("id"),
            t(r.server_uri, v255).label("server_uri"),
            t("sip:" + r.username + "@" + Trunk.sip_host, v255).label("client_uri"),
            t(
                sa.func.coalesce(sa.func.nullif(r.contact_user, ""), r.username), sa.String(40)
            ).label("contact_user"),
            t(Trunk.name, v255).label("outbound_auth"),
            t(sa.literal(RETRY_SECONDS), sa.Integer).label("retry_interval"),
            t(sa.literal(FORBIDDEN_RETRY_SECONDS), sa.Integer).label("forbidden_retry_interval"),
            t(r.expiration, sa.Integer).label("expiration"),
            t(_text("yes"), AST_BOOL).label("line"),
            t(Trunk.name, v255).label("endpoint"),
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
    View("ps_registrations", registrations, "registration"),
)


def create_view_sql(view: View) -> str:
    """CREATE VIEW for PostgreSQL, with literal values inlined (a view has no binds)."""
    compiled = view.select(True).compile(
        dialect=postgresql.dialect(),
        compile_kwargs={"literal_binds": True},
    )
    return f"CREATE VIEW {view.name} AS {compiled}"
