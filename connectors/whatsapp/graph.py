"""Graph API client for `POST /{version}/{phone_number_id}/messages` and the WhatsApp Business Account's
`/{version}/{waba_id}/message_templates` (list, create), with typed errors and retries.

Retries (exponential backoff + jitter, honouring Retry-After) only where waiting can help: rate limits, 5xx,
network errors and timeouts. Auth and validation errors fail at once. The access token and message bodies
never reach a log line or an exception text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

logger = logging.getLogger(__name__)
T = TypeVar("T")


class GraphError(Exception):
    """A Graph API call failed. `retryable` says whether the same call may succeed later."""

    retryable = False

    def __init__(
        self,
        title: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        details: str = "",
        fbtrace_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{title} (http {http_status}, code {code})")
        self.title = title
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after


class GraphAuthError(GraphError):
    """Token expired/invalid or permission missing: an operator must fix the configuration."""


class InvalidParameter(GraphError):
    """We sent something the API rejects (bad field, too long, unknown recipient format)."""


class ReEngagementRequired(GraphError):
    """More than 24 h since the user last wrote: only a template message may be sent."""


class RecipientUnavailable(GraphError):
    """The recipient cannot receive the message (not on WhatsApp, old app, blocked...)."""


class RateLimited(GraphError):
    """Too many calls for the app or the business number."""

    retryable = True


class PairRateLimited(RateLimited):
    """Too many messages to the same user in a short time."""


class GraphUnavailable(GraphError):
    """Server error, network error or timeout."""

    retryable = True


class GraphOutcomeUnknown(GraphUnavailable):
    """No answer after the request may have reached Graph (a timeout, the connection lost mid-call): the message
    may have been sent. The chat retries it (a reply twice beats none); a reminder is never sent again blindly,
    its status webhook settles it (notifications/sender.py)."""


_BY_CODE: dict[int, type[GraphError]] = {
    0: GraphAuthError,
    10: GraphAuthError,
    190: GraphAuthError,
    100: InvalidParameter,
    131008: InvalidParameter,
    131009: InvalidParameter,
    131047: ReEngagementRequired,
    131026: RecipientUnavailable,
    131056: PairRateLimited,
    4: RateLimited,
    80007: RateLimited,
    130429: RateLimited,
    1: GraphUnavailable,
    2: GraphUnavailable,
    131000: GraphUnavailable,
    131016: GraphUnavailable,
}


def _error_class(http_status: int, code: int | None) -> type[GraphError]:
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code is not None and 200 <= code <= 299:  # permission errors
        return GraphAuthError
    if http_status == 429:
        return RateLimited
    if http_status >= 500:
        return GraphUnavailable
    if http_status in (401, 403):
        return GraphAuthError
    return GraphError


def graph_error(http_status: int, body: Any, retry_after: float | None = None) -> GraphError:
    """Build the typed error for a failed response (`body` is the decoded JSON, or anything else)."""
    found = body.get("error") if isinstance(body, Mapping) else None
    err: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    code = err.get("code") if isinstance(err.get("code"), int) else None
    subcode = err.get("error_subcode") if isinstance(err.get("error_subcode"), int) else None
    data = err.get("error_data")
    error_data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    cls = _error_class(http_status, code)
    return cls(
        str(err.get("error_user_title") or err.get("message") or f"HTTP {http_status}"),
        http_status=http_status,
        code=code,
        subcode=subcode,
        details=str(error_data.get("details") or ""),
        fbtrace_id=str(err.get("fbtrace_id") or ""),
        retry_after=retry_after,
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return max(float(headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, GraphError) and exc.retryable


class GraphClient:
    """One shared aiohttp session (created lazily inside the running loop); `close()` on server stop."""

    def __init__(
        self,
        messages_url: str,
        access_token: str,
        *,
        timeout_seconds: float = 10.0,
        max_retries: int = 3,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        templates_url: str = "",
    ) -> None:
        self.messages_url = messages_url
        self.templates_url = templates_url  # empty: no WhatsApp Business Account configured
        self._token = access_token
        self.timeout_seconds = timeout_seconds
        self.max_retries = max(max_retries, 0)
        self._wait_backoff = wait_exponential_jitter(
            multiplier=backoff_initial, max=backoff_max, jitter=backoff_initial
        )
        self._backoff_max = backoff_max
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._sync_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> GraphClient:
        return cls(
            settings.graph_messages_url,
            settings.whatsapp_access_token,
            timeout_seconds=settings.whatsapp_timeout_seconds,
            max_retries=settings.whatsapp_max_retries,
            templates_url=settings.graph_templates_url,
        )

    def __repr__(self) -> str:  # no token in reprs (they end up in logs and tracebacks)
        return f"GraphClient({self.messages_url!r})"

    async def send_message(self, payload: Mapping[str, Any], *, retries: int | None = None) -> str:
        """Send one message; returns its wamid. Raises a GraphError subclass after the retries are spent
        (`retries`: this call's own number, e.g. 0 for a send that must not be repeated blindly)."""
        body = await self._post(payload, retries=self.max_retries if retries is None else max(retries, 0))
        messages = body.get("messages") if isinstance(body, Mapping) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], Mapping):
            return str(messages[0].get("id") or "")
        return ""

    def send_message_sync(self, payload: Mapping[str, Any], *, retries: int | None = None) -> str:
        """`send_message` for synchronous code (the reminder workers), on an event loop this client keeps for
        it: one HTTP session for all the sends of a worker process. Never call it from inside a running loop."""
        return self.run_sync(self.send_message(payload, retries=retries))

    def run_sync(self, call: Coroutine[Any, Any, T]) -> T:
        """Runs one of this client's calls from synchronous code, on the event loop the client keeps for it."""
        if _running_loop() is not None:
            call.close()
            raise RuntimeError("a sync Graph call inside a running event loop: await the call instead")
        if self._sync_loop is None or self._sync_loop.is_closed():
            self._sync_loop = asyncio.new_event_loop()
        return self._sync_loop.run_until_complete(call)

    async def list_templates(self) -> list[dict[str, Any]]:
        """Every message template of the WhatsApp Business Account (name, language, status, category, id),
        following Graph's paging."""
        url: str | None = self._waba_url()
        params: dict[str, str] | None = {"fields": "name,language,status,category,id", "limit": "100"}
        found: list[dict[str, Any]] = []
        while url:
            body = await self._call("GET", url, None, params=params, retries=self.max_retries)
            data = body.get("data") if isinstance(body, Mapping) else None
            found.extend(t for t in data or [] if isinstance(t, dict))
            paging = body.get("paging") if isinstance(body, Mapping) else None
            following = paging.get("next") if isinstance(paging, Mapping) else None
            url, params = (following, None) if isinstance(following, str) and following else (None, None)
        return found

    async def create_template(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Creates one template (notifications.templates.creation_payload); Graph answers its id, status and
        category. Not retried after an unknown outcome: a second create of the same name is refused anyway."""
        body = await self._call("POST", self._waba_url(), payload, retries=self.max_retries)
        return dict(body) if isinstance(body, Mapping) else {}

    def _waba_url(self) -> str:
        if not self.templates_url:
            raise GraphAuthError("no WhatsApp Business Account configured (WHATSAPP_BUSINESS_ACCOUNT_ID)")
        return self.templates_url

    def close_sync(self) -> None:
        """Closes the session and the loop of `send_message_sync` (a worker process that stops)."""
        loop, self._sync_loop = self._sync_loop, None
        if loop is not None and not loop.is_closed():
            loop.run_until_complete(self.close())
            loop.close()

    async def mark_read(self, message_id: str, *, typing_indicator: bool = True) -> None:
        """Blue ticks (and the typing dots) for a user message. Not retried: a late indicator is worse than none."""
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing_indicator:
            payload["typing_indicator"] = {"type": "text"}
        await self._post(payload, retries=0)

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._session_loop is _running_loop():
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # a session belongs to the loop it was made in (tests and Sanic workers may run several loops)
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_seconds))
            self._session_loop = loop
        return self._session

    def _wait(self, state: RetryCallState) -> float:
        backoff = self._wait_backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None) or 0.0
        return max(backoff, min(hint, self._backoff_max))

    async def _post(self, payload: Mapping[str, Any], *, retries: int) -> Any:
        return await self._call("POST", self.messages_url, payload, retries=retries)

    async def _call(
        self,
        method: str,
        url: str,
        payload: Mapping[str, Any] | None,
        *,
        retries: int,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        result: Any = None
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(retries + 1),
            wait=self._wait,
            retry=retry_if_exception(_is_retryable),
            before_sleep=_log_retry,
            reraise=True,
        ):
            with attempt:
                result = await self._call_once(method, url, payload, params)
        return result

    async def _call_once(
        self, method: str, url: str, payload: Mapping[str, Any] | None, params: Mapping[str, str] | None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._http().request(method, url, json=payload, params=params, headers=headers) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
                if resp.status >= 400 or (isinstance(body, Mapping) and "error" in body):
                    raise graph_error(resp.status, body, _retry_after(resp.headers))
                return body
        except asyncio.TimeoutError as exc:
            raise GraphOutcomeUnknown("timeout") from exc
        except aiohttp.ClientConnectorError as exc:  # no connection was made: nothing reached Graph
            raise GraphUnavailable(f"network error: {type(exc).__name__}") from exc
        except aiohttp.ClientError as exc:
            raise GraphOutcomeUnknown(f"network error: {type(exc).__name__}") from exc


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning(
        "Graph API call failed (%s: %s), retry %d in %.1fs",
        type(exc).__name__,
        getattr(exc, "title", ""),
        state.attempt_number,
        state.next_action.sleep if state.next_action else 0.0,
    )
