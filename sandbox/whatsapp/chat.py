"""Terminal chat with the assistant through the WhatsApp simulator.

    python -m sandbox.whatsapp.chat --sim http://127.0.0.1:9001 --phone 919876543210 --name Asha

Without --sim it finds the simulator of the running `make run` in .run/stack.json (whatever ports it chose),
else tries http://127.0.0.1:9001, and says so when no stack is running.
Type a message and press Enter. Buttons and list rows are numbered: type the number to press one.
Commands: /photo [caption], /location, /voice, /document, /help, /quit. Works with piped input too
(`printf 'hi\\n1\\n' | python -m sandbox.whatsapp.chat ...`): after each line it waits up to --timeout
seconds for the first reply, then until the bot has been quiet for --settle seconds.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import requests

from sandbox.stack import ROOT, STACK_FILE, running_stack

DEFAULT_SIM = "http://127.0.0.1:9001"

Spec = dict[str, Any]
HELP = (
    "Type to chat. Numbers press the numbered buttons/rows of the last message. "
    "Commands: /photo [caption], /location, /voice, /document, /help, /quit"
)
MEDIA_COMMANDS = {"/photo": "image", "/location": "location", "/voice": "voice", "/document": "document"}


class SimUnavailable(RuntimeError):
    """The simulator did not answer."""


class SimClient:
    def __init__(self, base_url: str, phone: str, name: str, http_timeout: float = 40.0) -> None:
        self.base = base_url.rstrip("/")
        self.phone, self.name = phone, name
        self.http_timeout = http_timeout
        self.http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self.http.request(method, self.base + path, timeout=self.http_timeout, **kwargs)
            return resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise SimUnavailable(f"simulator at {self.base} did not answer: {exc}") from exc

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/_sim/health")

    def send(self, spec: Spec) -> dict[str, Any]:
        return self._call("POST", "/_sim/send", json={"from": self.phone, "name": self.name, **spec})

    def outbox(self, after: int, wait: float) -> list[dict[str, Any]]:
        params = {"to": self.phone, "after": after, "wait": f"{max(wait, 0):.2f}"}
        return self._call("GET", "/_sim/outbox", params=params)["messages"]


# ---- rendering (pure) --------------------------------------------------------------------------


def terminal_text(text: str, ansi: bool) -> str:
    """WhatsApp *bold* / _italic_ as ANSI styles on a terminal; unchanged when piped."""
    if not ansi:
        return text
    text = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])", "\033[1m\\1\033[0m", text)
    return re.sub(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])", "\033[3m\\1\033[0m", text)


def _indent(text: str) -> str:
    return text.replace("\n", "\n     ")


def render(record: dict[str, Any], ansi: bool = False) -> tuple[list[str], list[Spec] | None]:
    """Lines to print for one outbox record, and the numbered options it offers (None: no change)."""
    if record.get("kind") == "read":
        return [], None
    if record.get("status") != 200:
        err = (record.get("response") or {}).get("error", {})
        details = (err.get("error_data") or {}).get("details")
        return [
            f"sim> Graph API refused a send ({record.get('status')}, code {err.get('code')}): "
            f"{err.get('message')}" + (f" - {details}" if details else "")
        ], None
    body: dict[str, Any] = record.get("body") or {}
    wamid = ((record.get("response") or {}).get("messages") or [{}])[0].get("id")
    kind = body.get("type", "text")
    content = body.get(kind) or {}
    if kind == "text":
        return [f"bot> {_indent(terminal_text(content.get('body', ''), ansi))}"], []
    if kind == "interactive":
        lines = [f"bot> {_indent(terminal_text((content.get('body') or {}).get('text', ''), ansi))}"]
        options: list[Spec] = []
        action = content.get("action") or {}
        if content.get("type") == "button":
            for button in action.get("buttons", []):
                reply = button.get("reply", {})
                options.append({"button": {"id": reply.get("id"), "title": reply.get("title")}, "context_id": wamid})
                lines.append(f"     [{len(options)}] {reply.get('title')}")
        elif content.get("type") == "list":
            lines.append(f"     ({action.get('button', 'Options')})")
            for section in action.get("sections", []):
                if section.get("title"):
                    lines.append(f"     {section['title']}")
                for row in section.get("rows", []):
                    pick = {k: row[k] for k in ("id", "title", "description") if row.get(k)}
                    options.append({"list": pick, "context_id": wamid})
                    desc = f" - {row['description']}" if row.get("description") else ""
                    lines.append(f"     [{len(options)}] {row.get('title')}{desc}")
        return lines, options
    if kind == "template":
        params = [p.get("text", p.get("type")) for c in content.get("components", []) for p in c.get("parameters", [])]
        return [
            f"bot> [template {content.get('name')} ({(content.get('language') or {}).get('code')})] "
            + ", ".join(str(p) for p in params)
        ], []
    caption = content.get("caption") if isinstance(content, dict) else None
    return [f"bot> [{kind}]" + (f" {caption}" if caption else "")], []


# ---- the loop ----------------------------------------------------------------------------------


@dataclass
class Chat:
    client: SimClient
    out: TextIO
    timeout: float = 10.0
    settle: float = 1.0
    ansi: bool = False
    after: int = 0
    options: list[Spec] = field(default_factory=list)

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def spec_for(self, line: str) -> Spec | None:
        command, _, rest = line.partition(" ")
        if command in MEDIA_COMMANDS:
            spec: Spec = {"media": MEDIA_COMMANDS[command]}
            if rest.strip():
                spec["caption"] = rest.strip()
            return spec
        if line.isdigit() and self.options and 1 <= int(line) <= len(self.options):
            return self.options[int(line) - 1]
        if line.startswith("/"):
            return None
        return {"text": line}

    def show(self, records: list[dict[str, Any]]) -> bool:
        """Print records; True when one of them was a message from the bot."""
        replied = False
        for record in records:
            self.after = max(self.after, int(record["seq"]))
            lines, options = render(record, self.ansi)
            for line in lines:
                self.say(line)
            if options is not None:
                self.options = options
                replied = True
        return replied

    def collect(self) -> None:
        """Wait up to `timeout` for the first reply, then for more until `settle` seconds of quiet."""
        deadline = time.monotonic() + self.timeout
        replied = False
        while True:
            wait = self.settle if replied else deadline - time.monotonic()
            if wait <= 0:
                break
            records = self.client.outbox(self.after, min(wait, 25.0))
            if not records and replied:
                break
            replied = self.show(records) or replied
        if not replied:
            self.say(f"sim> no reply within {self.timeout:g} s")

    def handle(self, line: str) -> bool:
        """Process one input line; False means quit."""
        if line in ("/quit", "/exit"):
            return False
        if line == "/help":
            self.say(HELP)
            return True
        spec = self.spec_for(line)
        if spec is None:
            self.say(f"sim> unknown command {line.split()[0]!r}. {HELP}")
            return True
        pressed = spec.get("button") or spec.get("list")
        if pressed:
            self.say(f"     (pressed: {pressed['title']})")
        result = self.client.send(spec)
        if result.get("status") != 200:
            why = f"the webhook answered {result['status']}" if result.get("status") else "the webhook is not reachable"
            self.say(f"sim> not delivered: {why}: {result.get('response') or result.get('error', '')}"[:300])
            return True
        self.collect()
        return True


def find_sim(run_dir: Path) -> tuple[str, dict[str, Any] | None]:
    """The simulator URL of the stack `make run` started (from run_dir/stack.json), else the default one."""
    stack = running_stack(run_dir)
    if stack and stack.get("sim"):
        return str(stack["sim"]), stack
    return DEFAULT_SIM, None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m sandbox.whatsapp.chat",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--sim",
        default=None,
        help=f"simulator base URL (default: the running `make run`'s, from .run/{STACK_FILE}; else {DEFAULT_SIM})",
    )
    p.add_argument("--run-dir", type=Path, default=ROOT / ".run", help=argparse.SUPPRESS)
    p.add_argument("--phone", default="919876543210", help="your WhatsApp number (country code, no +)")
    p.add_argument("--name", default="Asha", help="your WhatsApp profile name")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the first reply")
    p.add_argument("--settle", type=float, default=1.0, help="quiet seconds that end a burst of replies")
    args = p.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    interactive = sys.stdin.isatty()
    sim, stack = (args.sim, None) if args.sim else find_sim(args.run_dir)
    client = SimClient(sim, "".join(ch for ch in args.phone if ch.isdigit()), args.name)
    try:
        health = client.health()
    except SimUnavailable as exc:
        if args.sim:
            print(f"error: {exc}", file=sys.stderr)
        elif stack:
            state = "is still starting" if not stack.get("ready") else "does not answer"
            print(
                f"error: the running stack (pid {stack.get('pid')}, {args.run_dir / STACK_FILE}) {state} at {sim}; "
                f"try again in a moment, or see {stack.get('logs', args.run_dir / 'logs')}/",
                file=sys.stderr,
            )
        else:
            print(
                f"error: no stack is running (none in {args.run_dir / STACK_FILE}, nothing at {sim}): start one with "
                f"`make run` in another terminal, or give the simulator with --sim URL",
                file=sys.stderr,
            )
        return 2
    chat = Chat(
        client, sys.stdout, args.timeout, args.settle, ansi=sys.stdout.isatty(), after=int(health.get("last_seq", 0))
    )
    chat.say(f"Chatting with {health.get('bot_name', 'the bot')} as {args.name} (+{client.phone}) at {sim}. {HELP}")
    if stack and not stack.get("ready"):
        chat.say("sim> the stack is still starting (Rasa loads its model): the first replies may take a while")
    try:
        while True:
            if interactive:
                chat.show(client.outbox(chat.after, 0))  # replies that came late
                try:
                    line = input("you> ")
                except EOFError:
                    break
            else:
                raw = sys.stdin.readline()
                if not raw:
                    break
                line = raw.strip()
                if line:
                    chat.say(f"you> {line}")
            line = line.strip()
            if line and not chat.handle(line):
                break
    except KeyboardInterrupt:
        pass
    except SimUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
