"""What each payload file must produce: the messages Rasa gets and the events recorded (shared by several tests)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToRasa:
    sender_id: str
    text: str
    message_id: str
    type: str
    name: str
    timestamp: int


@dataclass(frozen=True)
class Recorded:
    kind: str
    message_id: str
    status: str = ""
    code: int | None = None


@dataclass(frozen=True)
class Case:
    to_rasa: list[ToRasa] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)


ASHA = "919876543210"


def unsupported(kind: str) -> str:
    return f'/unsupported_message{{"message_type":"{kind}"}}'


CASES: dict[str, Case] = {
    "text.json": Case(
        [
            ToRasa(
                ASHA,
                "when is my next appointment?",
                "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EB",
                "text",
                "Asha",
                1764039600,
            )
        ]
    ),
    "bsuid_only_text.json": Case(
        [ToRasa("IN.99887766554433221100", "hi", "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EK", "text", "Anon", 1764039690)]
    ),
    "batched_two_messages.json": Case(
        [
            ToRasa(ASHA, "help", "wamid.BATCH0001", "text", "Asha", 1764039700),
            ToRasa("919812345678", "login", "wamid.BATCH0002", "text", "Ravi", 1764039701),
        ]
    ),
    "interactive_button_reply.json": Case(
        [ToRasa(ASHA, "/affirm", "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EC", "interactive", "Asha", 1764039610)]
    ),
    "interactive_list_reply.json": Case(
        [ToRasa(ASHA, "patient-2", "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0ED", "interactive", "Asha", 1764039620)]
    ),
    "template_quick_reply_no_context.json": Case(
        [ToRasa(ASHA, "Stop reminders", "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EE", "button", "Asha", 1764039630)]
    ),
    "image.json": Case(
        [ToRasa(ASHA, unsupported("image"), "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EF", "image", "Asha", 1764039640)]
    ),
    "voice_note.json": Case(
        [ToRasa(ASHA, unsupported("audio"), "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EG", "audio", "Asha", 1764039650)]
    ),
    "location.json": Case(
        [
            ToRasa(
                ASHA, unsupported("location"), "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EH", "location", "Asha", 1764039660
            )
        ]
    ),
    "unsupported.json": Case(
        [
            ToRasa(
                ASHA,
                unsupported("unsupported"),
                "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EI",
                "unsupported",
                "Asha",
                1764039670,
            )
        ],
        [Recorded("webhook_error", "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EI", code=131051)],
    ),
    "reaction.json": Case([], [Recorded("reaction", "wamid.BOTMSG0001", status="👍")]),
    "status_delivered.json": Case([], [Recorded("status", "wamid.BOTMSG0001", status="delivered")]),
    "status_failed_131047.json": Case([], [Recorded("status", "wamid.BOTMSG0003", status="failed", code=131047)]),
    "webhook_error.json": Case([], [Recorded("webhook_error", "", code=131000)]),
}
