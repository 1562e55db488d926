"""Words and layout shared by every record: status words, labelled lines, and messages under WhatsApp's limit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from common.text import split_text

BLOCK_SEPARATOR = "\n\n"

# CARE status codes a patient would not say as they are ("in_progress" -> "ongoing")
STATUS_WORDS = {
    "in_progress": "ongoing",
    "on_hold": "on hold",
    "entered_in_error": "entered in error",
    "noshow": "missed",
    "checked_in": "checked in",
}


def words(code: str) -> str:
    """A CARE code as words, as it is: `in_progress` -> `in progress`, `surgical_procedure` -> `surgical procedure`."""
    return (code or "").replace("_", " ")


def humanize(code: str) -> str:
    """A status in everyday words: `in_progress` -> `ongoing`, `completed` -> `completed`."""
    if not code:
        return ""
    return STATUS_WORDS.get(code, words(code))


def line(label: str, value: str) -> str:
    """`• *Label:* value`, or "" when there is no value (no empty lines)."""
    return f"• *{label}:* {value}" if value else ""


def join(parts: Iterable[str]) -> str:
    return "\n".join(part for part in parts if part)


def lines(items: Iterable[str], empty: str) -> str:
    """One line per item, or `empty` when there is none."""
    out = [x for x in items if x]
    return "\n".join(out) if out else empty


def pack(blocks: Sequence[str], limit: int, first_overhead: int = 0) -> list[str]:
    """Blocks joined by blank lines into messages of at most `limit` characters, never splitting a block
    unless one block alone is too long (then it is cut at line ends). `first_overhead` reserves room in the
    first message for a header the caller puts in front."""
    first_budget = max(limit - first_overhead, 1)
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _fit(block, first_budget):
            budget = first_budget if not messages else limit
            candidate = f"{current}{BLOCK_SEPARATOR}{piece}" if current else piece
            if len(candidate) <= budget:
                current = candidate
                continue
            if current:
                messages.append(current)
            current = piece
    if current:
        messages.append(current)
    return messages


def _fit(block: str, limit: int) -> list[str]:
    return [block] if len(block) <= limit else split_text(block, limit)
