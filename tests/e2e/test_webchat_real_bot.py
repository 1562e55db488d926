"""The web chat page in headless Chromium against the real assistant (Rasa, actions, sandbox CARE):
what a developer sees after `make run`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.whatsapp.browser_testing import BrowserUnavailable, WebChat, chromium_page, ensure_chromium

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return ensure_chromium()
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium here: {exc}")


@pytest.fixture
def chat(chromium: str, stack) -> Iterator[WebChat]:
    with chromium_page(chromium) as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield WebChat(page).open(stack.sim_url, phone=f"9197{uuid.uuid4().int % 10**8:08d}", name="Asha")
        assert errors == [], f"JavaScript errors on the page: {errors}"


def test_greet_then_pick_help_from_the_menu_list(chat: Any, settings) -> None:
    chat.send_text("hi")
    chat.wait_for_bot_text(settings.whatsapp_bot_name)
    # the six-option menu comes as a list message; picking a row sends its payload to Rasa
    chat.pick_list_row("Help")
    chat.wait_for_bot_text("Here is what I can do")


def test_a_photo_from_the_browser_gets_the_polite_answer(chat: Any) -> None:
    chat.send_photo()
    chat.wait_for_bot_text("can't read images")
    chat.screenshot("/tmp/webchat-real-bot.png")
