"""The simulator's configuration: project settings by default, CLI flags on top."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .payloads import SAMPLE_BUSINESS, Business

DEFAULT_WEBHOOK_URL = "http://127.0.0.1:5005/webhooks/whatsapp/webhook"


@dataclass
class SimConfig:
    webhook_url: str = DEFAULT_WEBHOOK_URL
    # the Meta app secret the webhook bodies are signed with
    secret: str = ""
    # "" accepts any bearer token; set, the fake Graph answers 190 to any other token (as Meta would)
    access_token: str = ""
    # "" accepts calls for any phone number id; set, other ids get Graph's "object does not exist"
    phone_number_id: str = ""
    display_phone_number: str = SAMPLE_BUSINESS.display_phone_number
    api_version: str = "v21.0"
    bot_name: str = "CARE Assistant"
    webhook_timeout_seconds: float = 15.0
    # post `sent` and `delivered` status notifications after every accepted send, as Meta does
    send_statuses: bool = False
    # `POST /_sim/send-due` runs this product command with `--horizon-hours N` appended (make run: `python -m
    # notifications.tasks send-due`); empty: the endpoint says it is not configured
    send_due_command: tuple[str, ...] = ()

    @property
    def business(self) -> Business:
        return Business(
            SAMPLE_BUSINESS.waba_id, self.display_phone_number, self.phone_number_id or SAMPLE_BUSINESS.phone_number_id
        )

    @classmethod
    def from_settings(cls, **overrides: Any) -> SimConfig:
        """Project settings (`settings.get_settings()`), with the non-None `overrides` on top."""
        from settings import get_settings  # imported late: tests build SimConfig without an environment

        s = get_settings()
        base = cls(
            secret=s.whatsapp_webhook_secret,
            access_token=s.whatsapp_access_token,
            phone_number_id=s.whatsapp_phone_number_id,
            api_version=s.whatsapp_api_version,
            bot_name=s.whatsapp_bot_name,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})
