"""The action server's way to call the (blocking) CARE client: in a worker thread, so the action server's
event loop keeps serving other users, and with a hard deadline, so a user waiting on WhatsApp hears
"try again later" within seconds when CARE hangs (the client's own timeout applies per attempt, retries add up).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from actions.care.errors import CareUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

CALL_DEADLINE_SECONDS = 10.0


async def care_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn, *args, **kwargs), CALL_DEADLINE_SECONDS)
    except asyncio.TimeoutError as exc:
        log.warning("CARE call %s gave no answer within %.0f s", getattr(fn, "__name__", "?"), CALL_DEADLINE_SECONDS)
        raise CareUnavailable("CARE did not answer in time") from exc
