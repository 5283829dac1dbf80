"""One side of bench/bench_authorize_compare.py: Authorize in process against a database
the driver prepared, run by the interpreter and on the code of one checkout (this one,
or the baseline's: only `bench.bench_authorize.prepare`-era APIs are used, present in
both). Reads `depth calls` lines on stdin and answers each with the calls' seconds."""

from __future__ import annotations

import json
import random
import sys
import time

from db.session import UnitOfWork, make_engine, make_session_factory
from services.credit.authorize import AuthorizeRequest, authorize

NUMBERS = ["34911234567", "4930123456", "447700900123", "33612345678", "12125551234"]


def main() -> None:
    url, codes = sys.argv[1], json.loads(sys.argv[2])
    factory = make_session_factory(make_engine(url))
    rng = random.Random(4)
    prefix = sys.argv[3]
    n = 0
    for line in sys.stdin:
        depth, calls = line.split()
        times = []
        for _ in range(int(calls)):
            n += 1
            req = AuthorizeRequest(
                rng.choice(NUMBERS), rng.choice(codes[depth]), uniqueid=f"{prefix}.{n}"
            )
            started = time.perf_counter()
            with UnitOfWork(factory) as uow:
                answer = authorize(uow, None, req)
            times.append(time.perf_counter() - started)
            assert answer.allowed, answer.reason
        print(json.dumps(times), flush=True)


if __name__ == "__main__":
    main()
