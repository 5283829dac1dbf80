"""Run the benchmarks: every bench/bench_*.py module's `run()`, in name order, or only the
modules named on the command line (`python -m bench bench_prefix bench_rating`)."""

from __future__ import annotations

import argparse
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

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
    failed: list[str] = []
    for name in wanted:
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        # Each in a process of its own: one's memory (peak RSS) and heap are not the next's.
        code = f"import bench.{name} as module; module.run()"
        repo = Path(bench.__file__).resolve().parent.parent
        if subprocess.run([sys.executable, "-c", code], cwd=repo, check=False).returncode:
            failed.append(name)
        print(f"   ({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
