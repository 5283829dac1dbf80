"""The web callback's operations in the isolation matrix: R2 and C1 ask a callback for
an account of another subtree (NotFound, nothing reserved, nothing originated: the
matrix's server has no AMI at all), and the status of a callback that is not theirs."""

from __future__ import annotations

from typing import Any


def callback_cases(case: Any) -> list[Any]:
    """`case`: the matrix's Case class."""
    numbers = {"number_a": "34911234567", "number_b": "442071234567"}
    return [
        case("billing", "RequestCallback", lambda w: {"account": w.id("XC"), **numbers}),
        case("billing", "GetCallbackStatus", lambda w: {"callback_id": 1}),
    ]
