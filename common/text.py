"""WhatsApp text helpers (pure): split long replies, fit titles into the Cloud API's length limits."""

from __future__ import annotations

import re

ELLIPSIS = "…"

# Boundaries in the order a reader prefers them. A sentence ends with . ! ? or the Devanagari danda.
_PARAGRAPH = re.compile(r"\n\s*\n")
_LINE = re.compile(r"\n")
_SENTENCE = re.compile(r"[.!?।](?=\s)")
_WORD = re.compile(r"\s")


def _cut_position(text: str, limit: int) -> int:
    """Where to end the first chunk of `text` (len > limit): the best boundary inside the first `limit` chars."""
    window = text[: limit + 1]  # a boundary right after the limit still lets the chunk fit
    found: list[int] = []
    for pattern in (_PARAGRAPH, _LINE, _SENTENCE, _WORD):
        ends = [m.end() if pattern is _SENTENCE else m.start() for m in pattern.finditer(window)]
        ends = [e for e in ends if 0 < e <= limit]
        if not ends:
            continue
        # a boundary in the second half keeps chunks balanced; an earlier one only if nothing better exists
        if ends[-1] >= limit // 2:
            return ends[-1]
        found.append(ends[-1])
    return max(found) if found else limit


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into chunks of at most `limit` characters, at paragraph, line, sentence or word boundaries.

    Whitespace at the cut is dropped; a word longer than `limit` is cut hard. Empty text gives no chunks.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rest = (text or "").strip()
    chunks: list[str] = []
    while len(rest) > limit:
        cut = _cut_position(rest, limit)
        head = rest[:cut].rstrip()
        if not head:  # only whitespace before the boundary: cut hard instead of looping
            head, cut = rest[:limit], limit
        chunks.append(head)
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when something was cut (at a word if possible)."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return text[:limit]
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space >= len(head) // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


TITLE_SEPARATOR = " · "


def split_title(title: str, limit: int) -> tuple[str, str]:
    """Split a title that is too long into (head <= limit, rest): at the last " · " that fits, else at a word.

    Used for list rows: the head is the row title, the rest goes into the row description.
    """
    title = (title or "").strip()
    if len(title) <= limit:
        return title, ""
    # "Mon 30 Nov, 9 am · Dr. Asha Menon": the parts a formatter joined stay whole
    cut = title.rfind(TITLE_SEPARATOR, 0, limit + 1)
    if cut > 0:
        return title[:cut].rstrip(), title[cut + len(TITLE_SEPARATOR) :].strip()
    head = title[:limit]
    space = head.rfind(" ")
    if space > 0 and not title[limit].isspace():
        head = head[:space]
    return head.rstrip(), title[len(head) :].strip()
