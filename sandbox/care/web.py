"""HTTP plumbing shared by the route modules: CARE's error shapes, pagination, JSON bodies, the
per-app context, a Django-like 404 page and an access log without query strings (they hold phones)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from sandbox.care.shapes import Shapes
from sandbox.care.store import Store
from sandbox.care.tokens import Tokens

PYDANTIC = "https://errors.pydantic.dev/2.9/v/"
DEFAULT_LIMIT, MAX_LIMIT = 14, 200  # CARE's page size and its cap
UUID_RE = "[0-9a-fA-F-]{36}"


@dataclass
class Context:
    store: Store
    tokens: Tokens
    shapes: Shapes


CONTEXT = web.AppKey("care_context", Context)


def ctx(request: web.Request) -> Context:
    return request.app[CONTEXT]


class CareHTTPError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


# ---------------------------------------------------------------------- CARE's error bodies


def invalid(msg: Any) -> CareHTTPError:
    """DRF ValidationError (msg is a string or a {field: message} object)."""
    return CareHTTPError(400, {"errors": [{"type": "validation_error", "msg": msg}]})


def pydantic_error(kind: str, loc: str, msg: str, value: Any, ctx_: dict[str, Any] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": kind, "loc": [loc], "msg": msg, "input": value}
    if ctx_ is not None:
        err["ctx"] = ctx_
    err["url"] = PYDANTIC + kind
    return err


def pydantic_invalid(errors: list[dict[str, Any]]) -> CareHTTPError:
    return CareHTTPError(400, {"errors": errors})


def not_found(model: str) -> CareHTTPError:
    return CareHTTPError(404, {"errors": [{"type": "object_not_found", "msg": f"No {model} matches the given query."}]})


def forbidden(detail: str) -> CareHTTPError:
    return CareHTTPError(403, {"detail": detail})


def missing_fields(body: dict[str, Any], names: Iterable[str]) -> list[dict[str, Any]]:
    return [pydantic_error("missing", n, "Field required", body) for n in names if body.get(n) in (None, "")]


def uuid_errors(body: dict[str, Any], names: Iterable[str]) -> list[dict[str, Any]]:
    errs = []
    for n in names:
        value = body.get(n)
        if value in (None, ""):
            continue
        try:
            uuid.UUID(str(value))
        except ValueError:
            errs.append(
                pydantic_error("uuid_parsing", n, "Input should be a valid UUID", value, {"error": "invalid character"})
            )
    return errs


def enum_error(loc: str, value: Any, allowed: Iterable[str]) -> dict[str, Any]:
    names = [f"'{a}'" for a in allowed]
    expected = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    return pydantic_error("enum", loc, f"Input should be {expected}", value, {"expected": expected})


def literal_error(loc: str, value: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """pydantic's literal_error; CARE's Literal[...] of enum members shows their reprs (126)."""
    names = list(allowed)
    expected = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    return pydantic_error("literal_error", loc, f"Input should be {expected}", value, {"expected": expected})


# ---------------------------------------------------------------------- requests and responses


async def json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CareHTTPError(400, {"detail": f"JSON parse error - {exc}"}) from exc
    return body if isinstance(body, dict) else {}


def page(request: web.Request, items: list[Any]) -> web.Response:
    """CARE's limit/offset page: `{"count", "results"}`, no next/previous."""
    try:
        limit = min(int(request.query.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        offset = max(int(request.query.get("offset", 0)), 0)
    except ValueError:
        limit, offset = DEFAULT_LIMIT, 0
    return web.json_response({"count": len(items), "results": items[offset : offset + max(limit, 0)]})


def ok(body: Any) -> web.Response:
    return web.json_response(body)


def _django_404(path: str) -> web.Response:
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta http-equiv="content-type" '
        f'content="text/html; charset=utf-8">\n  <title>Page not found at {path}</title>\n</head>\n'
        f"<body><h1>Page not found <small>(404)</small></h1><p>{path}</p></body></html>\n"
    )
    return web.Response(status=404, text=html, content_type="text/html")


@web.middleware
async def care_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except CareHTTPError as exc:
        return web.json_response(exc.body, status=exc.status)
    except web.HTTPNotFound:
        return _django_404(request.path)
    except web.HTTPMethodNotAllowed:
        return web.json_response({"detail": f'Method "{request.method}" not allowed.'}, status=405)


class AccessLogger(AbstractAccessLogger):
    """Method, path, status, duration: never the query string (phone numbers, names)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s -> %d in %d ms", request.method, request.path, response.status, int(time * 1000))


log = logging.getLogger("sandbox.care")


def parse_dt(value: Any) -> dt.datetime | None:
    """An ISO datetime from a request body (`Z` or an offset); None when absent or unreadable."""
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
