"""The CARE clients of the action server and the one way to call them.

- `service()`: the assistant's service account (logs in once, refreshes itself): clinical reads for the
  patients an OTP login proved, and the patients' own token views (`as_patient`).
- `staff_client()`: the pool every staff member's own-token view (`as_staff`) shares.
CARE calls are blocking (requests): `care_call` runs them in a worker thread with a deadline, so a slow CARE
never blocks the action server's event loop and the user hears "try again later" within seconds.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from actions.care.calls import care_call
from actions.care.client import CareClient
from actions.care.errors import CareUnauthenticated, CareUnavailable
from settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# A patient waits for the answer: one quick retry at most, within care_call's deadline for the whole call
# (CARE_TIMEOUT_SECONDS still applies when it is shorter).
ATTEMPT_TIMEOUT_SECONDS = 4.0


@functools.lru_cache(maxsize=1)
def service() -> CareClient:
    s = get_settings()
    return CareClient.create(
        s.care_base_url,
        username=s.care_username,
        password=s.care_password,
        timeout=min(s.care_timeout_seconds, ATTEMPT_TIMEOUT_SECONDS),
        max_retries=min(s.care_max_retries, 1),
    )


@functools.lru_cache(maxsize=1)
def staff_client() -> CareClient:
    """One HTTP pool per action server; `as_staff` views share it."""
    return CareClient.from_settings()


async def call_service(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A call as the service account. Its refusal is a configuration problem, not the user's: to them it is
    "unavailable" (and an error in the log for the operator)."""
    try:
        return await care_call(fn, *args, **kwargs)
    except CareUnauthenticated as exc:
        log.error("the CARE service account was refused (%s): check CARE_USERNAME / CARE_PASSWORD", exc.status)
        raise CareUnavailable("service account refused") from exc


def forget_clients() -> None:
    """Drop the cached clients (settings changed: tests, a reload)."""
    service.cache_clear()
    staff_client.cache_clear()


__all__ = ["ATTEMPT_TIMEOUT_SECONDS", "call_service", "care_call", "forget_clients", "service", "staff_client"]
