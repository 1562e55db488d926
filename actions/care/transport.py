"""HTTP to CARE: one `requests.Session`, a timeout on every call, retries, error mapping, pagination.

Retries use **tenacity**, not urllib3's `Retry`: urllib3 decides per HTTP method on the adapter, but
CARE's `get_slots_for_day` is a POST that only reads, while every other POST creates something
(an appointment booked twice is a real harm). With tenacity each call says whether it is
idempotent, and only those are retried, on refused connections, timeouts and 5xx, with
exponential backoff and a bounded number of attempts (`CARE_MAX_RETRIES`).

Logs carry the method, the path *template* (`/api/v1/patient/{patient_id}/`), the status and the
duration: never ids, query strings, bodies or headers, so no token, OTP, phone or record leaks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from actions.care.errors import (
    CareError,
    CareForbidden,
    CareInvalid,
    CareNotFound,
    CareUnauthenticated,
    CareUnavailable,
    error_messages,
)

log = logging.getLogger("actions.care")

TOKEN_NOT_VALID = "token_not_valid"
NOT_PROVIDED = "Authentication credentials were not provided."
MAX_PAGES = 100  # a runaway `count` must not loop forever


class Auth(Protocol):
    """How a call is authenticated: a service account, a staff member's tokens, or a patient token."""

    def header(self, http: CareHttp) -> dict[str, str]:
        """The Authorization header, logging in or refreshing first when needed."""

    def recover(self, http: CareHttp, refused: dict[str, str]) -> bool:
        """CARE refused `refused`: get fresh credentials once; False when that is impossible."""


def is_token_refusal(resp: requests.Response) -> bool:
    """401, or CARE's 403 `token_not_valid` (an expired/invalid/wrong-type staff JWT)."""
    if resp.status_code == 401:
        return True
    if resp.status_code != 403:
        return False
    body = _json_or_none(resp)
    return isinstance(body, dict) and body.get("code") == TOKEN_NOT_VALID


class CareHttp:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 8.0,
        max_retries: int = 2,
        backoff: float = 0.25,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self.session = session or requests.Session()
        self._sleep = sleep

    # ------------------------------------------------------------------ one call

    def call(
        self,
        method: str,
        template: str,
        path_params: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON body, or raise a typed CareError.

        A token refusal triggers exactly one `auth.recover` and one repeat of the call.
        """
        url = self.base_url + template.format(**{k: quote(str(v), safe="") for k, v in (path_params or {}).items()})
        retryable = method.upper() == "GET" if idempotent is None else idempotent
        clean = {k: v for k, v in (params or {}).items() if v is not None}

        def attempt() -> tuple[requests.Response, dict[str, str]]:
            headers = {"Accept": "application/json"}
            auth_header = auth.header(self) if auth else {}
            headers.update(auth_header)
            return self._send(method, url, template, headers, clean, json), auth_header

        resp, used = self._with_retries(attempt, retryable)
        if auth is not None and is_token_refusal(resp) and auth.recover(self, used):
            resp, _ = self._with_retries(attempt, retryable)
        return decode(resp, template)

    def paginate(
        self,
        template: str,
        path_params: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        auth: Auth | None = None,
        page_size: int = 100,
        max_items: int | None = None,
    ) -> list[Any]:
        """Follow CARE's limit/offset pagination until `count` items (CARE sends no `next`)."""
        return list(self._iter_pages(template, path_params, params or {}, auth, page_size, max_items))

    def _iter_pages(
        self,
        template: str,
        path_params: Mapping[str, Any] | None,
        params: Mapping[str, Any],
        auth: Auth | None,
        page_size: int,
        max_items: int | None,
    ) -> Iterator[Any]:
        offset, seen = 0, 0
        for _ in range(MAX_PAGES):
            limit = page_size if max_items is None else min(page_size, max_items - seen)
            body = self.call(
                "GET", template, path_params, params={**params, "limit": limit, "offset": offset}, auth=auth
            )
            results = results_of(body)
            for item in results:
                yield item
                seen += 1
                if max_items is not None and seen >= max_items:
                    return
            count = body.get("count") if isinstance(body, dict) else None
            if not results or not isinstance(count, int) or offset + len(results) >= count:
                return
            offset += len(results)

    # ------------------------------------------------------------------ transport

    def _with_retries(self, fn: Callable[[], Any], retryable: bool) -> Any:
        if not retryable or self.max_retries == 0:
            return fn()
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential(multiplier=self.backoff, max=2.0),
            retry=retry_if_exception_type(CareUnavailable),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(fn)

    def _send(
        self, method: str, url: str, template: str, headers: dict[str, str], params: Mapping[str, Any], json: Any
    ) -> requests.Response:
        started = time.monotonic()
        try:
            resp = self.session.request(
                method,
                url,
                headers=headers,
                params=params or None,
                json=json,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            log.warning("CARE %s %s timed out after %d ms", method, template, _ms(started))
            raise CareUnavailable("CARE did not answer in time") from exc
        except requests.RequestException as exc:  # refused, reset, DNS, TLS...
            log.warning("CARE %s %s unreachable after %d ms (%s)", method, template, _ms(started), type(exc).__name__)
            raise CareUnavailable("CARE could not be reached") from exc
        log.info("CARE %s %s -> %d in %d ms", method, template, resp.status_code, _ms(started))
        if resp.status_code >= 500:
            raise CareUnavailable(f"CARE answered {resp.status_code}", status=resp.status_code)
        return resp


def decode(resp: requests.Response, template: str = "") -> Any:
    """A CARE response -> its JSON body, or the typed error for its status."""
    status = resp.status_code
    body = _json_or_none(resp)
    if 200 <= status < 300:
        if body is None and resp.content:
            raise CareUnavailable("CARE answered with something that is not JSON", status=status)
        return body
    code = body.get("code") if isinstance(body, dict) else None
    messages = error_messages(body)
    text = f"CARE {status} on {template}: {messages[0] if messages else 'no details'}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if status == 401 or (status == 403 and (code == TOKEN_NOT_VALID or detail == NOT_PROVIDED)):
        raise CareUnauthenticated(text, status=status, code=code)
    if status == 403:
        raise CareForbidden(text, status=status, code=code)
    if status == 404:
        raise CareNotFound(text, status=status, code=code)
    if status == 400:
        raise CareInvalid(messages, status=status, code=code)
    raise CareError(text, status=status, code=code)


def results_of(body: Any) -> list[Any]:
    """`{"count", "results"}`, `{"results"}` (slot and OTP actions) or a bare list."""
    if isinstance(body, dict):
        res = body.get("results")
        return res if isinstance(res, list) else []
    return body if isinstance(body, list) else []


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
