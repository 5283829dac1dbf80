"""Run the benchmarks: every bench/bench_*.py module's `run()`, in name order, or only the
modules named on the command line (`python -m bench bench_prefix bench_rating`)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import bench


def discover() -> list[str]:
    names = (module.name for module in pkgutil.iter_modules(bench.__path__))
    return sorted(name for name in names if name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("modules", nargs="*", help="bench_* modules to run (default: all)")
    args = parser.parse_args(argv)
    available = discover()
    wanted = [name.removesuffix(".py") for name in args.modules] or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}; there are {', '.join(available)}")
    for name in wanted:
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").run()
        print(f"   ({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
