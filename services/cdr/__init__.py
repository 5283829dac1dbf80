"""CDR service (urn:siptar:cdr).

Imports are inside `application()` so that `services.cdr.usecases`, which the AMI
listener uses, does not pull spyne in through this package.
"""

from __future__ import annotations

from typing import Any

NAME = "cdr"
TNS = "urn:siptar:cdr"


def application() -> Any:
    from services.cdr.service import CdrService
    from services.common.app import make_application

    return make_application([CdrService], tns=TNS, name="Cdr")
