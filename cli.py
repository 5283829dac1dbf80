"""`siptar`: the one command-line entry point.

    siptar db upgrade|downgrade REV|current|revision -m MSG
    siptar demo [--if-empty]
    siptar init [--name NAME] [--username admin] [--currency USD] [--timezone UTC]
                [--password-stdin]
    siptar admin add USERNAME [--password-stdin]
    siptar admin passwd USERNAME [--password-stdin]
    siptar serve [--bind HOST:PORT] [--workers N] [--threads N]
    siptar ami
    siptar agi [--agi-bind 127.0.0.1:4573]
    siptar reservations expire
    siptar cdr import-csv FILE
    siptar cdr replay-failed [--spool-dir DIR]
    siptar wsdl [--out DIR]
    siptar worker [--once] [--now ISO-TIME] [--job NAME]
    siptar asterisk export-pjsip [--out FILE]

Every setting is an environment variable SIPTAR_<NAME> and a flag --<name> that
overrides it (settings.py); the flag is accepted at any level of a command, before or
after its subcommand (`siptar cdr import-csv --database-url URL FILE`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path

from services.common.logs import configure_logging
from settings import Settings

logger = logging.getLogger("siptar")


def _parser() -> argparse.ArgumentParser:
    """The command tree. A new command is added with `sub.add_parser(...)` (or under a
    group's subparsers) like the others: `_with_settings_options` gives every parser of
    the tree the settings flags at the end, so they work before or after any
    sub-subcommand without the new command doing anything."""
    common = _settings_options()
    parser = argparse.ArgumentParser(prog="siptar", description="SipTar Billing Server")
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", parents=[common], help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the newest schema")
    down = db_sub.add_parser("downgrade", help="migrate down to REV")
    down.add_argument("revision")
    db_sub.add_parser("current", help="show the current revision")
    rev = db_sub.add_parser("revision", help="autogenerate a new revision")
    rev.add_argument("-m", "--message", required=True)
    demo = sub.add_parser("demo", parents=[common], help="load the demo data")
    demo.add_argument("--if-empty", action="store_true", help="only into an empty database")
    serve = sub.add_parser("serve", parents=[common], help="serve the four SOAP services")
    serve.add_argument("--bind", default="127.0.0.1:8080")
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=8, help="threads per worker (1: sync)")
    sub.add_parser("ami", parents=[common], help="run the AMI listener")
    sub.add_parser("agi", parents=[common], help="run the FastAGI authorize endpoint")
    res = sub.add_parser("reservations", parents=[common], help="credit reservations")
    res.add_subparsers(dest="res_command", required=True).add_parser(
        "expire",
        help="expire reservations past their call's end (siptar worker does it every minute)",
    )
    cdr = sub.add_parser("cdr", parents=[common], help="CDR tools")
    cdr_sub = cdr.add_subparsers(dest="cdr_command", required=True)
    csv_import = cdr_sub.add_parser("import-csv", help="import Asterisk's Master.csv (idempotent)")
    csv_import.add_argument("file", type=Path)
    cdr_sub.add_parser(
        "replay-failed", help="store the spool's failed-*.jsonl files again (idempotent)"
    )
    _install_parsers(sub, common)
    _worker_parser(sub, common)
    wsdl = sub.add_parser("wsdl", parents=[common], help="write the four WSDL files")
    wsdl.add_argument("--out", default="wsdl")
    asterisk = sub.add_parser("asterisk", parents=[common], help="Asterisk provisioning")
    export = asterisk.add_subparsers(dest="asterisk_command", required=True).add_parser(
        "export-pjsip", help="write the PJSIP endpoints, auths and AORs as a pjsip.conf include"
    )
    export.add_argument("--out", default="-", help="the file to (re)write; - for stdout")
    _with_settings_options(parser)
    return parser


def _worker_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    worker = sub.add_parser("worker", parents=[common], help="run the periodic jobs")
    worker.add_argument("--once", action="store_true", help="run every job once, then exit")
    worker.add_argument("--now", help="with --once: the time the jobs run for (ISO, UTC)")
    worker.add_argument("--job", action="append", help="only this job (repeatable)")


def _settings_options() -> argparse.ArgumentParser:
    """One --<name> flag per setting (settings.py). The default is SUPPRESS, not None:
    argparse copies a subparser's namespace over its parent's, so a None default in a
    sub-subcommand would erase a flag given before it (`siptar cdr --database-url X
    import-csv F`). Absent flags leave no attribute; `main` reads them with getattr."""
    common = argparse.ArgumentParser(add_help=False)
    for f in fields(Settings):
        common.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f.name,
            default=argparse.SUPPRESS,
            type=int if f.type == "int" else str,
            help=f"[env var: SIPTAR_{f.name.upper()}]",
        )
    return common


def _with_settings_options(parser: argparse.ArgumentParser) -> None:
    """Add the settings flags to `parser` and to every parser below it, wherever they
    are missing (a command built with `parents=[common]` has them already)."""
    for action in _settings_options()._actions:
        if not any(o in parser._option_string_actions for o in action.option_strings):
            parser._add_action(action)
    for child in subcommand_parsers(parser):
        _with_settings_options(child)


def subcommand_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of `parser`'s subcommands (argparse keeps them in a private action)."""
    return [
        child
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for child in dict.fromkeys(action.choices.values())
    ]


def main(argv: list[str] | None = None) -> None:
    # Redacts passwords, secrets and bodies from every record (services/common/logs.py).
    configure_logging(logging.INFO)
    args = _parser().parse_args(argv)
    settings = Settings.from_env().with_overrides(
        **{f.name: getattr(args, f.name, None) for f in fields(Settings)}
    )
    handler = {"db": _db, "demo": _demo, "serve": _serve, "ami": _ami, "cdr": _cdr, "wsdl": _wsdl}
    handler |= {"agi": _agi, "reservations": _reservations}
    handler |= {"init": _init, "admin": _admin, "worker": _worker, "asterisk": _asterisk}
    handler[args.command](args, settings)


def _db(args: argparse.Namespace, settings: Settings) -> None:
    from db import migrate

    url = settings.database_url
    if args.db_command == "upgrade":
        migrate.upgrade(url)
    elif args.db_command == "downgrade":
        migrate.downgrade(url, args.revision)
    elif args.db_command == "current":
        migrate.current(url)
    else:
        migrate.revision(url, args.message)


def _demo(args: argparse.Namespace, settings: Settings) -> None:
    from db.session import UnitOfWork, make_engine, make_session_factory
    from services.common.demo import is_empty, load_demo

    factory = make_session_factory(make_engine(settings.database_url))
    with UnitOfWork(factory) as uow:
        if not is_empty(uow):
            if args.if_empty:
                print("the database has data already: demo not loaded")
                return
            sys.exit("the database is not empty: the demo goes into an empty one only")
        logins = load_demo(uow)
    print("demo loaded; logins (username / password):")
    for login in logins:
        print(f"  {login.username:<10} / {login.password:<10} {login.role:<9} {login.what}")


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    from services.common.server import serve

    if not settings.public_url:
        settings = settings.with_overrides(public_url=_url_for_bind(args.bind))
    serve(settings, bind=args.bind, workers=args.workers, threads=args.threads)


def _url_for_bind(bind: str) -> str:
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _ami(args: argparse.Namespace, settings: Settings) -> None:
    from ami_listener.runner import run

    run(settings)


def _agi(args: argparse.Namespace, settings: Settings) -> None:
    from ami_listener.runner import run_agi

    run_agi(settings)


def _reservations(args: argparse.Namespace, settings: Settings) -> None:
    from db.session import UnitOfWork, make_engine, make_session_factory
    from services.credit.expiry import expire_reservations

    engine = make_engine(settings.database_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        print(f"expired {expire_reservations(uow)} reservations")
    engine.dispose()


def _cdr(args: argparse.Namespace, settings: Settings) -> None:
    if args.cdr_command == "replay-failed":
        _replay_failed(settings)
        return
    from ami_listener.csv_import import CsvImportError, import_csv
    from db.session import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        text = args.file.read_text(encoding="utf-8", errors="replace")
        report = import_csv(make_session_factory(engine), text, settings.tz)
    except (OSError, CsvImportError) as e:
        sys.exit(f"siptar cdr import-csv: {args.file}: {e}")
    finally:
        engine.dispose()
    print(
        f"{args.file}: {report.rows} rows: {report.rated} rated, {report.unrated} unrated, "
        f"{report.duplicate} already stored, {report.failed} refused; "
        f"{report.no_trunk} answered without a trunk (no buy cost)"
    )
    if report.failed:
        sys.exit(1)


def _replay_failed(settings: Settings) -> None:
    from sqlalchemy.exc import OperationalError

    from ami_listener.replay import ReplayBusy, replay_failed
    from ami_listener.spool import Spool
    from db.session import make_engine, make_session_factory, masked

    engine = make_engine(settings.database_url)
    try:
        report = replay_failed(make_session_factory(engine), Spool(settings.spool_dir))
    except ReplayBusy as e:
        sys.exit(f"siptar cdr replay-failed: {e}")
    except OperationalError as e:
        first = str(e.orig or e).splitlines()[0]
        sys.exit(
            f"siptar cdr replay-failed: database {masked(settings.database_url)} "
            f"unavailable ({first}); the failed files are left in place, run it again"
        )
    finally:
        engine.dispose()
    for f in report.files:
        if f.error:
            print(f"{f.path.name}: not read, left in place: {f.error}")
            continue
        kept = f" (kept in {f.kept_in.name})" if f.kept_in else ""
        print(
            f"{f.path.name}: {f.records} records: {f.rated} rated, {f.unrated} unrated, "
            f"{f.duplicate} already stored, {f.refused} still refused{kept}"
        )
    print(
        f"{len(report.files)} failed file(s) in {settings.spool_dir}: "
        f"{report.total('records')} records, {report.total('rated')} rated, "
        f"{report.total('unrated')} unrated, {report.total('duplicate')} already stored, "
        f"{report.total('refused')} still refused"
    )
    if not report.ok:
        sys.exit(1)


def _wsdl(args: argparse.Namespace, settings: Settings) -> None:
    from services.common.wsdl_files import write_wsdl_files

    for path in write_wsdl_files(Path(args.out)):
        print(f"wrote {path}")


def _install_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`siptar init` and `siptar admin add|passwd` (services/logins)."""
    init = sub.add_parser(
        "init", parents=[common], help="create the operator on an empty database (no demo)"
    )
    init.add_argument("--name", default="Operator", help="the operator's name")
    init.add_argument("--username", default="admin", help="the first admin login")
    init.add_argument("--currency", default="USD")
    init.add_argument("--timezone", default="UTC")
    admin = sub.add_parser("admin", parents=[common], help="admin logins")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    add = admin_sub.add_parser("add", help="add an admin login")
    passwd = admin_sub.add_parser("passwd", help="set a login's password")
    for command in (add, passwd):
        command.add_argument("username")
        command.add_argument(  # also accepted after the subcommand
            "--database-url",
            dest="database_url",
            default=argparse.SUPPRESS,
            help="[env var: SIPTAR_DATABASE_URL]",
        )
    for command in (init, add, passwd):
        # Never a flag: a password on the command line is in every `ps` listing.
        command.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin (else one is generated "
            "and printed once)",
        )


def _password(args: argparse.Namespace) -> str | None:
    if not args.password_stdin:
        return None
    return sys.stdin.readline().rstrip("\r\n")


def _init(args: argparse.Namespace, settings: Settings) -> None:
    from db import migrate
    from db.session import UnitOfWork, make_engine, make_session_factory
    from rating.errors import BillingError
    from services.logins.install import init_operator

    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            done = init_operator(
                uow,
                name=args.name,
                username=args.username,
                password=_password(args),
                currency=args.currency,
                timezone=args.timezone,
            )
    except BillingError as e:
        sys.exit(f"siptar init: {e}")
    finally:
        engine.dispose()
    print(
        f"operator {args.name!r} created (account {done.account_id}); admin login {done.username}"
    )
    if done.generated:
        print(f"password (shown once, keep it): {done.password}")


def _admin(args: argparse.Namespace, settings: Settings) -> None:
    from db.session import UnitOfWork, make_engine, make_session_factory
    from rating.errors import BillingError
    from services.logins.usecases import add_admin_login, generated_password, reset_password

    given = _password(args)
    secret = given if given is not None else generated_password()
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            if args.admin_command == "add":
                done = add_admin_login(uow, args.username, secret)
                print(f"admin login {done.username} added")
            else:
                done = reset_password(uow, args.username, secret)
                print(f"password of {done.username} set")
    except BillingError as e:
        sys.exit(f"siptar admin {args.admin_command}: {e}")
    finally:
        engine.dispose()
    if given is None:
        print(f"password (shown once, keep it): {secret}")


def _worker(args: argparse.Namespace, settings: Settings) -> None:
    from services.jobs.cli import run_worker

    sys.exit(run_worker(settings, once=args.once, now=args.now, only=args.job))


def _asterisk(args: argparse.Namespace, settings: Settings) -> None:
    from db.session import make_engine, make_session_factory
    from services.provisioning.pjsip_conf import render, write_atomically

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            text = render(session)
    finally:
        engine.dispose()
    if args.out == "-":
        sys.stdout.write(text)
        return
    write_atomically(Path(args.out), text)
    print(f"wrote {args.out}; reload Asterisk (ReloadAsterisk, or: module reload res_pjsip.so)")


if __name__ == "__main__":
    main()
