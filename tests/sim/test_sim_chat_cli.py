"""The terminal chat, driven through piped stdin against the simulator and the fake bot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sandbox.whatsapp.chat import render
from sandbox.whatsapp.fakebot import RECEIVED
from sandbox.whatsapp.threaded import BackgroundServer

ROOT = Path(__file__).resolve().parents[2]


def run_chat(sim_url: str, stdin: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [
        sys.executable,
        "-m",
        "sandbox.whatsapp.chat",
        "--sim",
        sim_url,
        "--phone",
        "919876543210",
        "--name",
        "Asha",
        "--timeout",
        "15",
        "--settle",
        "0.5",
        *extra,
    ]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_piped_conversation_with_buttons_lists_and_photo(sim: BackgroundServer, bot: BackgroundServer) -> None:
    done = run_chat(sim.url, "hi\n1\nmenu\n2\n/photo my prescription\n/quit\nnever sent\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # the hello message with its two buttons, numbered
    assert "bot> *Hello!* I am the _sandbox_ bot. Shall we start?" in out
    assert "     [1] Yes\n     [2] No" in out
    # "1" pressed the first button, and the bot answered the press
    assert "(pressed: Yes)" in out and "bot> You pressed *Yes*." in out
    # the list, its rows numbered, "2" picked the second row
    assert "[2] Medications - Current prescriptions" in out
    assert "bot> You picked _Medications_." in out
    assert "bot> Nice photo!" in out
    # the order a person would read it in
    assert out.index("Hello!") < out.index("You pressed") < out.index("You picked") < out.index("Nice photo")
    assert "never sent" not in out

    bodies = bot.app[RECEIVED]
    messages = [b["entry"][0]["changes"][0]["value"]["messages"][0] for b in bodies]
    assert [m["type"] for m in messages] == ["text", "interactive", "text", "interactive", "image"]
    assert messages[1]["interactive"]["button_reply"] == {"id": "/affirm", "title": "Yes"}
    assert messages[1]["context"]["id"].startswith("wamid.")  # the press points at the bot's message
    assert messages[3]["interactive"]["list_reply"]["id"] == "medications"
    assert messages[4]["image"]["caption"] == "my prescription"


def test_numbers_without_options_are_plain_text(sim: BackgroundServer, bot: BackgroundServer) -> None:
    done = run_chat(sim.url, "42\n")
    assert done.returncode == 0
    first = bot.app[RECEIVED][0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert first["text"]["body"] == "42"


def test_undeliverable_message_is_reported(sim: BackgroundServer) -> None:
    # no bot behind the simulator: the send cannot be delivered
    done = run_chat(sim.url, "hi\n")
    assert done.returncode == 0
    assert "sim> not delivered: the webhook is not reachable" in done.stdout


def test_unreachable_simulator_exits_2() -> None:
    done = run_chat("http://127.0.0.1:9", "hi\n")
    assert done.returncode == 2 and "did not answer" in done.stderr


def test_render_shows_graph_refusals_and_templates() -> None:
    lines, options = render(
        {
            "kind": "message",
            "status": 429,
            "response": {
                "error": {
                    "code": 131056,
                    "message": "(#131056) pair rate limit hit",
                    "error_data": {"details": "slow down"},
                }
            },
        }
    )
    assert lines == ["sim> Graph API refused a send (429, code 131056): (#131056) pair rate limit hit - slow down"]
    assert options is None
    template = {
        "name": "reminder",
        "language": {"code": "en"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Asha"}]}],
    }
    lines, options = render(
        {
            "kind": "message",
            "status": 200,
            "response": {"messages": [{"id": "wamid.T"}]},
            "body": {"type": "template", "template": template},
        }
    )
    assert lines == ["bot> [template reminder (en)] Asha"] and options == []
    assert render({"kind": "read", "status": 200}) == ([], None)
