"""`python -m sandbox.whatsapp`: run the WhatsApp simulator (fake Graph API + web chat)."""

from __future__ import annotations

import argparse
import logging
import shlex

import uvloop
from aiohttp import web

from .config import DEFAULT_WEBHOOK_URL, SimConfig
from .server import make_app

log = logging.getLogger("sandbox.whatsapp")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sandbox.whatsapp", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9001)
    p.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL, help="the bot's WhatsApp webhook")
    p.add_argument("--secret", help="app secret to sign webhook bodies (default: WHATSAPP_WEBHOOK_SECRET)")
    p.add_argument("--phone-number-id", help="business phone number id (default: WHATSAPP_PHONE_NUMBER_ID)")
    p.add_argument(
        "--access-token", help="token the fake Graph expects (default: WHATSAPP_ACCESS_TOKEN; empty accepts any)"
    )
    p.add_argument("--api-version", help="Graph version shown in health (default: WHATSAPP_API_VERSION)")
    p.add_argument("--display-phone-number", help="the business number users see")
    p.add_argument(
        "--send-statuses",
        action="store_true",
        default=None,
        help="post sent/delivered status notifications after every accepted send",
    )
    p.add_argument(
        "--send-due-command",
        help="the command POST /_sim/send-due runs, --horizon-hours N appended (make run: "
        "'python -m notifications.tasks send-due')",
    )
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = SimConfig.from_settings(
        webhook_url=args.webhook_url,
        secret=args.secret,
        phone_number_id=args.phone_number_id,
        access_token=args.access_token,
        api_version=args.api_version,
        display_phone_number=args.display_phone_number,
        send_statuses=args.send_statuses,
        send_due_command=tuple(shlex.split(args.send_due_command)) if args.send_due_command else None,
    )
    if not config.secret:
        log.warning("no webhook secret (WHATSAPP_WEBHOOK_SECRET / --secret): bodies are signed with an empty key")
    base = f"http://{args.host}:{args.port}"
    log.info(
        "WhatsApp simulator: chat page %s/ ; fake Graph %s/%s/%s/messages (set WHATSAPP_BASE_URL=%s) ; "
        "posting user messages to %s",
        base,
        base,
        config.api_version,
        config.business.phone_number_id,
        base,
        config.webhook_url,
    )
    # uvloop (Sanic's, already installed with Rasa) halves the event loop's own cost: the benchmark runs the
    # simulator on the same 2 cores as the assistant it measures
    loop = uvloop.new_event_loop()
    web.run_app(
        make_app(config),
        loop=loop,
        host=args.host,
        port=args.port,
        print=None,
        access_log=None if args.log_level.upper() != "DEBUG" else logging.getLogger("aiohttp.access"),
    )


if __name__ == "__main__":
    main()
