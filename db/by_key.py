"""A query run for each value of an array parameter, by index (PostgreSQL).

`column IN (...)` over a batch's keys (the listener's 200 UniqueIDs) is planned from the
table's statistics: on a table nobody has analyzed yet (right after a burst of calls)
the planner took a sequential scan of all of it, a few milliseconds a batch at 20,000
rows. Here the keys come as one array, `unnest`ed, and the query runs once per key as a
LATERAL subquery that OFFSET 0 keeps from being merged into a join: the only plan is a
nested loop over the keys, each an index probe when the key column has an index. One
parameter, so one text whatever the number of keys (compiled once).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, bindparam, cast, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute


def for_each_key(
    query: Select[*tuple[Any, ...]], key: QueryableAttribute[Any], name: str
) -> Select[*tuple[Any, ...]]:
    """`query`'s rows for every value of the array parameter `name` that `key` equals,
    with `query`'s columns (by their names). `query` must not be ordered or limited."""
    keys = (
        func.unnest(cast(bindparam(name), ARRAY(key.type)))
        .table_valued("key")
        .render_derived(name="keys")
    )
    row = (
        query.where(key == keys.c.key)
        .offset(literal_column("0", Integer))  # rendered, not a parameter: the planner sees it
        .lateral("r")
    )
    return select(*row.c).select_from(keys).join(row, true())
