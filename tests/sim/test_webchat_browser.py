"""The web chat page in a real headless Chromium: type, send, read the reply, press buttons, pick rows."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from notifications.templates import button_payload, render
from sandbox.whatsapp.browser_testing import (
    SMALL_PHONE_VIEWPORT,
    BrowserUnavailable,
    WebChat,
    chromium_page,
    ensure_chromium,
)
from sandbox.whatsapp.fakebot import RECEIVED, make_fakebot
from sandbox.whatsapp.server import make_app, simulator_of
from sandbox.whatsapp.threaded import BackgroundServer
from tests.sim.conftest import PHONE_NUMBER_ID, SECRET, TOKEN, VERSION

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
SCREENSHOT = "/tmp/webchat.png"


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return ensure_chromium()
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium here: {exc}")


@pytest.fixture
def page(chromium: str) -> Iterator[Any]:
    with chromium_page(chromium) as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        assert errors == [], f"JavaScript errors on the page: {errors}"


def test_conversation_in_the_browser(page: Any, sim: BackgroundServer, bot: BackgroundServer) -> None:
    chat = WebChat(page).open(sim.url, phone="919876543210", name="Asha")
    assert chat.tid("bot-name").inner_text() == "Test Bot"
    assert "Asha" in chat.tid("user-label").inner_text()

    chat.send_text("hi")
    hello = chat.wait_for_bot_text("Hello!")
    # WhatsApp formatting is rendered, not shown as asterisks
    assert hello.locator("strong").inner_text() == "Hello!"
    assert hello.locator("em").inner_text() == "sandbox"
    buttons = chat.tid("reply-button")
    assert buttons.all_inner_texts() == ["Yes", "No"]
    # the bot's read receipt turns the user's ticks blue
    page.locator("[data-testid='user-message'][data-status='read']").first.wait_for()

    chat.press_button("Yes")
    answer = chat.wait_for_bot_text("You pressed")
    assert answer.locator("strong").inner_text() == "Yes"
    assert chat.user_messages().nth(1).inner_text().startswith("Yes")

    chat.send_text("menu")
    chat.wait_for_bot_text("What would you like to see?")
    chat.tid("list-open").last.click()
    assert chat.tid("list-sheet").is_visible()
    assert chat.tid("list-row").all_inner_texts()[1].startswith("Medications")
    chat.tid("list-row").filter(has_text="Medications").click()
    assert chat.tid("list-sheet").is_hidden()
    assert chat.wait_for_bot_text("You picked").locator("em").inner_text() == "Medications"

    chat.send_photo()
    chat.wait_for_bot_text("Nice photo!")
    assert chat.tid("media-image").count() == 1

    # bubbles appear in conversation order
    first_words = [text.split()[0] for text in chat.bot_messages().all_inner_texts()]
    assert first_words == ["Hello!", "You", "What", "You", "Nice"]

    # what reached the bot: a button_reply and a list_reply pointing at the bot's messages
    messages = [b["entry"][0]["changes"][0]["value"]["messages"][0] for b in bot.app[RECEIVED]]
    assert [m["type"] for m in messages] == ["text", "interactive", "text", "interactive", "image"]
    assert messages[1]["interactive"]["button_reply"] == {"id": "/affirm", "title": "Yes"}
    assert messages[1]["context"]["id"] == hello.get_attribute("data-wamid")
    assert messages[3]["interactive"]["list_reply"]["id"] == "medications"
    chat.screenshot(SCREENSHOT)


def test_read_receipt_before_the_webhook_answers(page: Any, sim: BackgroundServer) -> None:
    """A bot may mark a message read before its webhook answers 200; the ticks still turn blue."""
    eager = make_fakebot(sim.url, SECRET, TOKEN, PHONE_NUMBER_ID, VERSION, read_before_ack=True)
    with BackgroundServer(eager) as server:
        simulator_of(sim.app).config.webhook_url = server.url + "/webhooks/whatsapp/webhook"
        chat = WebChat(page).open(sim.url, phone="919876543210", name="Asha")
        read = page.locator("[data-testid='user-message'][data-status='read']")
        for n, text in enumerate(["hi", "hello again", "and once more"]):
            chat.send_text(text)
            chat.bot_messages().filter(has_text="Hello!").nth(n).wait_for()
            read.nth(n).wait_for(timeout=5000)
        assert chat.user_messages().count() == 3


def test_graph_refusals_are_shown(page: Any, sim: BackgroundServer, bot: BackgroundServer) -> None:
    chat = WebChat(page).open(sim.url, phone="919876543210", name="Asha")
    requests.post(sim.url + "/_sim/fail", json={"code": 131056, "times": 1}, timeout=5)
    chat.send_text("hi")
    notice = chat.tid("sim-error")
    notice.wait_for()
    assert "131056" in notice.inner_text() and "429" in notice.inner_text()


def test_first_visit_asks_who_you_are(page: Any, sim: BackgroundServer, bot: BackgroundServer) -> None:
    chat = WebChat(page).open(sim.url)
    assert chat.tid("setup").is_visible()
    chat.tid("phone-input").fill("+91 98111 22233")
    chat.tid("name-input").fill("Ravi")
    chat.tid("start-button").click()
    assert chat.tid("setup").is_hidden()
    assert chat.tid("user-label").inner_text() == "Ravi · +919811122233"
    chat.send_text("hi")
    chat.wait_for_bot_text("Hello!")
    contact = bot.app[RECEIVED][0]["entry"][0]["changes"][0]["value"]["contacts"][0]
    assert contact == {"profile": {"name": "Ravi"}, "wa_id": "919811122233"}


def test_attach_menu_sends_location(page: Any, sim: BackgroundServer, bot: BackgroundServer) -> None:
    chat = WebChat(page).open(sim.url, phone="919876543210", name="Asha")
    chat.tid("attach-button").click()
    chat.tid("attach-location").click()
    chat.wait_for_bot_text("Got your location.")
    assert chat.tid("attach-menu").is_hidden()
    message = bot.app[RECEIVED][0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == "location" and message["location"]["name"] == "Ernakulam"


def test_the_newest_message_and_its_buttons_are_scrolled_into_view(
    page: Any, sim: BackgroundServer, bot: BackgroundServer
) -> None:
    """On a small phone, a reply's buttons (rendered after its text) and list opener end up in view."""
    page.set_viewport_size(SMALL_PHONE_VIEWPORT)
    chat = WebChat(page).open(sim.url, phone="919876543210", name="Asha")
    messages = chat.tid("messages")
    for n in range(4):
        chat.send_text(f"hi {n}")
        chat.bot_messages().filter(has_text="Hello!").nth(n).wait_for()
        chat.tid("reply-button").nth(2 * n + 1).wait_for()
    assert messages.evaluate("m => m.scrollHeight > m.clientHeight + 150"), "the chat should overflow by now"
    assert chat.wait_in_view(chat.bot_messages().last), "the newest message is not scrolled into view"
    for button in chat.tid("reply-button").all()[-2:]:
        assert chat.wait_in_view(button), f"reply button {button.inner_text()!r} is below the visible area"

    chat.send_text("menu")
    chat.wait_for_bot_text("What would you like to see?")
    assert chat.wait_in_view(chat.tid("list-open").last), "the list opener is below the visible area"
    chat.tid("list-open").last.click()
    viewport = page.viewport_size
    for row in chat.tid("list-row").all():  # the sheet shows every row of a three-row list on a small phone
        box = row.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
    chat.tid("list-row").filter(has_text="Records").click()
    assert chat.wait_in_view(chat.wait_for_bot_text("You picked"))

    # the keyboard opening (or the window shrinking) keeps the end of the chat in view
    page.set_viewport_size({"width": 360, "height": 420})
    assert chat.wait_in_view(chat.bot_messages().last), "the newest message went out of view when the window shrank"

    # after scrolling up to read, the next message is still brought into view
    messages.evaluate("m => { m.scrollTop = 0; }")
    page.wait_for_timeout(100)
    assert not chat.in_view(chat.bot_messages().last)
    chat.send_text("hi again")
    chat.bot_messages().filter(has_text="Hello!").nth(4).wait_for()
    assert chat.wait_in_view(chat.tid("reply-button").last)
    page.set_viewport_size(SMALL_PHONE_VIEWPORT)


def test_a_reload_shows_the_conversation_again(page: Any, sim: BackgroundServer, bot: BackgroundServer) -> None:
    """The page fetches this phone's conversation from the simulator: messages, buttons, ticks, in order."""
    page.set_viewport_size(SMALL_PHONE_VIEWPORT)
    chat = WebChat(page).open(sim.url, phone="919876543210", name="Asha")
    chat.send_text("hi")
    chat.wait_for_bot_text("Hello!")
    chat.press_button("Yes")
    chat.wait_for_bot_text("You pressed")
    chat.send_text("menu")
    chat.wait_for_bot_text("What would you like to see?")
    chat.pick_list_row("Medications")
    chat.wait_for_bot_text("You picked")
    page.locator("[data-testid='user-message'][data-status='read']").nth(3).wait_for()
    # another phone's chat stays out of this one
    requests.post(sim.url + "/_sim/send", json={"from": "919800000000", "text": "someone else"}, timeout=10)
    before = chat.transcript()
    assert len(before) == 8

    chat.reload()
    after = chat.transcript()
    assert after == before
    assert [m["testid"] for m in after] == ["user-message", "bot-message"] * 4
    assert [m["text"] for m in after if m["testid"] == "user-message"] == [
        "hi",
        "Yes",
        "menu",
        "MedicationsCurrent prescriptions",
    ]
    assert [m["kind"] for m in after] == ["text", "buttons", "button", "text", "text", "list", "list", "text"]
    assert {m["status"] for m in after if m["testid"] == "user-message"} == {"read"}
    assert chat.tid("reply-button").all_inner_texts() == ["Yes", "No"]
    assert chat.tid("list-open").all_inner_texts() == ["Menu"]
    assert chat.wait_in_view(chat.bot_messages().last)

    # the replayed buttons still answer the message they belong to, and nothing comes twice
    hello_wamid = chat.wait_for_bot_text("Hello!").get_attribute("data-wamid")
    chat.press_button("No")
    chat.wait_for_bot_text("You pressed No")
    page.wait_for_timeout(300)
    assert chat.bot_messages().count() == 5 and chat.user_messages().count() == 5
    pressed = bot.app[RECEIVED][-1]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert pressed["interactive"]["button_reply"]["title"] == "No" and pressed["context"]["id"] == hello_wamid


def test_a_template_reminder_shows_its_text_and_buttons_and_a_tap_answers(
    page: Any, sim: BackgroundServer, bot: BackgroundServer
) -> None:
    chat = WebChat(page).open(sim.url, phone="919876543210", name="Asha")
    reminder = render("medication_reminder", to="+919876543210", params={"time": "8:00 pm"}, notification_id=42)
    sent = requests.post(
        f"{sim.url}/{VERSION}/{PHONE_NUMBER_ID}/messages",
        json=reminder,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert sent.status_code == 200
    bubble = chat.wait_for_bot_text("the medicine you take at 8:00 pm")
    assert bubble.get_attribute("data-kind") == "template"
    buttons = chat.tid("template-button")
    assert buttons.all_inner_texts() == ["Taken", "Snooze 30 min", "Skip", "Stop reminders"]

    buttons.filter(has_text="Taken").click()
    assert chat.wait_for_bot_text("You tapped").locator("strong").inner_text() == "Taken"
    assert chat.user_messages().last.inner_text().startswith("Taken")
    # what reached the webhook: WhatsApp's `button` message, the button's payload, in reply to the reminder
    (tap,) = [
        m
        for body in bot.app[RECEIVED]
        for m in body["entry"][0]["changes"][0]["value"].get("messages", [])
        if m["type"] == "button"
    ]
    assert tap["button"] == {"payload": button_payload("reminder_taken", 42), "text": "Taken"}
    assert tap["context"]["id"] == sent.json()["messages"][0]["id"]


def test_the_reminders_due_button_runs_the_send_due_command_and_says_what_it_sent(
    page: Any, sim_config: Any, chromium: str
) -> None:
    report = '{"scan": {}, "reminders": {"claimed": 3, "sent": 2, "skipped": 1}}'
    config = dataclasses.replace(sim_config, send_due_command=(sys.executable, "-c", f"print({report!r})"))
    with BackgroundServer(make_app(config)) as server:
        chat = WebChat(page).open(server.url, phone="919876543210", name="Asha")
        chat.tid("send-due").click()
        result = chat.tid("send-due-result")
        result.wait_for()
        assert result.inner_text() == "Reminders due in the next 24 h: 2 sent, 1 skipped"
