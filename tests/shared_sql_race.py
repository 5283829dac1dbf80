"""Run by tests/unit/test_shared_sql.py in a fresh interpreter: every module-level SQL
object of the server (statements and aliased entities) compiled for the first time by
many threads at once must compile as a single thread compiles it.

A module is reloaded before each try, so that its objects are new and SQLAlchemy's lazy
look-ups on them are empty again (the race is in their first fill: db/shared_sql.py).
A tiny switch interval makes the interpreter swap threads every few bytecodes, which is
what turns a rare race of a loaded machine into one that shows in a few tries.
Prints one line per object whose racing compiles differed; nothing when all agreed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import threading
import warnings
from types import ModuleType
from typing import Any

from sqlalchemy import exc, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import AliasedClass
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

_DIALECTS = (postgresql.psycopg2.dialect(), sqlite.pysqlite.dialect())
_THREADS = 16


def _shared(module: ModuleType) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in vars(module).items():
        if isinstance(value, AliasedClass):
            found[name] = select(value)
        elif isinstance(value, Executable) and isinstance(value, ClauseElement):
            found[name] = value
    return found


def _compile(element: Any) -> str | None:
    for dialect in _DIALECTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", exc.SAWarning)
            try:
                return str(element.compile(dialect=dialect))
            except exc.CompileError:
                continue
    return None


def _modules() -> list[str]:
    names = []
    for package in ("db", "services", "ami_listener"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            if ".migrations" in info.name:
                continue
            if _shared(importlib.import_module(info.name)):
                names.append(info.name)
    return names


def _race(element: Any) -> set[str | None]:
    barrier = threading.Barrier(_THREADS)
    out: list[str | None] = []

    def one() -> None:
        barrier.wait()
        out.append(_compile(element))

    threads = [threading.Thread(target=one) for _ in range(_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return set(out)


def main(rounds: int) -> None:
    sys.setswitchinterval(1e-6)
    names = _modules()
    print(f"modules {len(names)}", file=sys.stderr)
    differed: set[str] = set()
    for _ in range(rounds):
        for name in names:
            alone = {
                k: _compile(v) for k, v in _shared(importlib.reload(sys.modules[name])).items()
            }
            for key, element in _shared(importlib.reload(sys.modules[name])).items():
                if _race(element) != {alone[key]}:
                    differed.add(f"{name}.{key}")
    for name in sorted(differed):
        print(name)


if __name__ == "__main__":
    main(int(sys.argv[1]))
