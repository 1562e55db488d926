"""Rasa's calls to the action server over kept connections.

`EndpointConfig.request` opens a new aiohttp session (a connector, a TCP connection) for every call and closes
it afterwards: a custom action or form step paid for that each time (4 % of a Rasa process's CPU on the
benchmark). Here each endpoint keeps one session per event loop, made by Rasa's own `session()` (same
headers, auth and timeout), and Rasa's `request` runs unchanged around it. aiohttp keeps idle connections
15 s; the action server must keep them longer (README: `SANIC_KEEP_ALIVE_TIMEOUT=75`).

The kept session writes its JSON bodies with ujson (already pinned, as Rasa's and Sanic's own dependency):
every call carries the whole session's events and the 31 kB domain, and `json.dumps` of that was 5 % of a
worker's CPU in the benchmark; ujson takes half as long for the same JSON content.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ujson

_KEPT = "_care_kept_session"
_opened: list[tuple[asyncio.AbstractEventLoop, Any]] = []


class _Unclosed:
    """What `async with endpoint.session()` needs, without closing the kept session at the end."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


class _KeepingEndpoint:
    """The endpoint as Rasa's `request` sees it: everything its own, except that `session()` is kept."""

    def __init__(self, endpoint: Any, session: Any) -> None:
        self._endpoint = endpoint
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._endpoint, name)

    def session(self) -> _Unclosed:
        return _Unclosed(self._session)


def _kept_session(endpoint: Any) -> Any:
    loop = asyncio.get_running_loop()
    kept = endpoint.__dict__.get(_KEPT)
    if kept is None or kept[0] is not loop or kept[1].closed:
        _opened[:] = [(lp, s) for lp, s in _opened if not s.closed and not lp.is_closed()]
        session = endpoint.session()
        session._json_serialize = ujson.dumps  # aiohttp's `json_serialize=`; Rasa's session() does not pass one
        kept = endpoint.__dict__[_KEPT] = (loop, session)
        _opened.append(kept)
    return kept[1]


def install() -> None:
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.request

    async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await original(_KeepingEndpoint(self, _kept_session(self)), *args, **kwargs)

    request.__wrapped__ = original  # type: ignore[attr-defined]
    EndpointConfig.request = request


async def close_kept_sessions() -> None:
    """Close the sessions kept on the running loop (at shutdown, so aiohttp does not warn of open ones)."""
    loop = asyncio.get_running_loop()
    for owner, session in list(_opened):
        if owner is loop and not session.closed:
            await session.close()
    _opened[:] = [(lp, s) for lp, s in _opened if not s.closed]
