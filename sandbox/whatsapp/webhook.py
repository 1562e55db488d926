"""Posting notification bodies to the bot's webhook, signed like Meta signs them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from . import payloads
from .config import SimConfig

SIGN_MODES = ("valid", "missing", "bad")


@dataclass(frozen=True)
class Delivery:
    status: int | None  # None: the webhook could not be reached
    text: str


class WebhookClient:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def headers_for(self, raw: bytes, sign: str = "valid") -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if sign == "valid":
            headers[payloads.SIGNATURE_HEADER] = payloads.signature(self.config.secret, raw)
        elif sign == "bad":
            headers[payloads.SIGNATURE_HEADER] = payloads.signature(self.config.secret + "-wrong", raw)
        elif sign != "missing":
            headers[payloads.SIGNATURE_HEADER] = sign  # an explicit header value, for tests
        return headers

    async def post(self, raw: bytes, sign: str = "valid") -> Delivery:
        assert self._session is not None, "WebhookClient.start() was not awaited"
        timeout = aiohttp.ClientTimeout(total=self.config.webhook_timeout_seconds)
        try:
            async with self._session.post(
                self.config.webhook_url, data=raw, headers=self.headers_for(raw, sign), timeout=timeout
            ) as resp:
                return Delivery(resp.status, (await resp.text())[:2000])
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return Delivery(None, f"webhook unreachable at {self.config.webhook_url}: {exc!r}")

    async def post_body(self, body: dict[str, Any], sign: str = "valid") -> Delivery:
        return await self.post(payloads.encode(body), sign)
