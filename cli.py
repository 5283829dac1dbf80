"""`siptar`: the one command-line entry point.

    siptar db upgrade|downgrade REV|current|revision -m MSG
    siptar demo [--if-empty]
    siptar serve [--bind HOST:PORT] [--workers N]
    siptar ami
    siptar agi [--agi-bind 127.0.0.1:4573]
    siptar reservations expire
    siptar cdr import-csv FILE
    siptar cdr replay-failed [--spool-dir DIR]
    siptar wsdl [--out DIR]
    siptar asterisk export-pjsip [--out FILE]

Every setting is an environment variable SIPTAR_<NAME> and a flag --<name> that
overrides it (settings.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path

from settings import Settings

logger = logging.getLogger("siptar")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    for f in fields(Settings):
        common.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f.name,
            default=None,
            type=int if f.type == "int" else str,
            help=f"[env var: SIPTAR_{f.name.upper()}]",
        )
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
    sub.add_parser("ami", parents=[common], help="run the AMI listener")
    sub.add_parser("agi", parents=[common], help="run the FastAGI authorize endpoint")
    res = sub.add_parser("reservations", parents=[common], help="credit reservations")
    res.add_subparsers(dest="res_command", required=True).add_parser(
        "expire", help="expire reservations past their call's end (run it from cron)"
    )
    cdr = sub.add_parser("cdr", parents=[common], help="CDR tools")
    cdr_sub = cdr.add_subparsers(dest="cdr_command", required=True)
    csv_import = cdr_sub.add_parser("import-csv", help="import Asterisk's Master.csv (idempotent)")
    csv_import.add_argument("file", type=Path)
    replay = cdr_sub.add_parser(
        "replay-failed", help="store the spool's failed-*.jsonl files again (idempotent)"
    )
    for name in ("spool_dir", "database_url"):  # also accepted after the subcommand
        replay.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=argparse.SUPPRESS,
            help=f"[env var: SIPTAR_{name.upper()}]",
        )
    wsdl = sub.add_parser("wsdl", parents=[common], help="write the four WSDL files")
    wsdl.add_argument("--out", default="wsdl")
    asterisk = sub.add_parser("asterisk", parents=[common], help="Asterisk provisioning")
    export = asterisk.add_subparsers(dest="asterisk_command", required=True).add_parser(
        "export-pjsip", help="write the PJSIP endpoints, auths and AORs as a pjsip.conf include"
    )
    export.add_argument("--out", default="-", help="the file to (re)write; - for stdout")
    export.add_argument(  # also accepted after the subcommand
        "--database-url",
        dest="database_url",
        default=argparse.SUPPRESS,
        help="[env var: SIPTAR_DATABASE_URL]",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # spyne logs every Client fault with a traceback; they are the caller's business.
    logging.getLogger("spyne.application.client").setLevel(logging.CRITICAL)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    settings = Settings.from_env().with_overrides(
        **{f.name: getattr(args, f.name, None) for f in fields(Settings)}
    )
    handler = {"db": _db, "demo": _demo, "serve": _serve, "ami": _ami, "cdr": _cdr, "wsdl": _wsdl}
    handler |= {"agi": _agi, "reservations": _reservations, "asterisk": _asterisk}
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
    serve(settings, bind=args.bind, workers=args.workers)


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
        f"{report.duplicate} already stored, {report.failed} refused"
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
