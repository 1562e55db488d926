"""What the WhatsApp connector tells the reminders: who wrote when (WhatsApp's 24 h customer-service window) and
the status webhooks of the reminders sent.

- `inbound_due` / `record_inbound`: the last inbound message of each sender, kept by pseudonym
  (sessions/crypto.py), never the number. Written at most once a minute per sender (`debounce_seconds`): the
  recorded time may lag the real one by that much, so the window is read as closing a little early, never late.
- `record_status`: a status webhook carrying one of our notification ids in `biz_opaque_callback_data` moves
  that notification on (sent, delivered, read, failed + code; never backwards). A `failed` with 131047 (the
  interactive message arrived after the window closed) makes it due again at once, as a template.

The connector calls both off its event loop (they block on SQL) and never lets a failure here stop a message.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from notifications.store import FAILED, TEMPLATE_NOT_SENDABLE_SHOWN, WEBHOOK_STATUSES, NotificationStore

logger = logging.getLogger(__name__)

UTC = dt.timezone.utc
RE_ENGAGEMENT = 131047


class ReminderHooks:
    def __init__(
        self,
        store: Callable[[], NotificationStore],
        *,
        debounce_seconds: float = 60.0,
        capacity: int = 100_000,
    ) -> None:
        self._store_factory = store
        self._store: NotificationStore | None = None
        self.debounce_seconds = debounce_seconds
        self._capacity = capacity
        # in-process only, keyed by a salted hash of the sender: when their window was last written
        self._written: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def store(self) -> NotificationStore:
        if self._store is None:
            self._store = self._store_factory()
        return self._store

    # ---- the window -------------------------------------------------------------------------------------------

    def inbound_due(self, sender: str, timestamp: float) -> bool:
        """Cheap, in memory: should this message's time be written? (No SQL: the connector asks on its loop.)"""
        key = hash(sender)
        with self._lock:
            last = self._written.get(key)
            if last is not None and timestamp - last < self.debounce_seconds:
                return False
            self._written[key] = timestamp
            self._written.move_to_end(key)
            while len(self._written) > self._capacity:
                self._written.popitem(last=False)
            return True

    def record_inbound(self, sender: str, timestamp: float) -> None:
        """Writes the sender's last inbound time (seconds since the epoch, WhatsApp's message timestamp)."""
        try:
            self.store.record_inbound(sender, dt.datetime.fromtimestamp(timestamp, UTC))
        except Exception:
            with self._lock:  # not written: the next message tries again
                self._written.pop(hash(sender), None)
            raise

    # ---- template status webhooks -----------------------------------------------------------------------------

    def record_template_status(self, name: str, language: str, status: str) -> None:
        """`message_template_status_update`: the sender and the health check see the template's new status."""
        self.store.set_template_status(name, language, status)

    def paused_templates(self) -> list[str]:
        """For the health check: "name (language): STATUS" of each paused or disabled template."""
        found = self.store.template_statuses(TEMPLATE_NOT_SENDABLE_SHOWN)
        return [f"{name} ({language}): {status}" for (name, language), status in sorted(found.items())]

    # ---- status webhooks --------------------------------------------------------------------------------------

    def record_status(
        self,
        *,
        status: str,
        message_id: str,
        callback_data: str,
        error_code: int | None,
        now: dt.datetime | None = None,
    ) -> bool:
        """A status webhook of one of our reminders; False when it is not ours or changes nothing."""
        if status not in WEBHOOK_STATUSES or not callback_data.strip().isdigit():
            return False
        notification_id = int(callback_data)
        moved = self.store.mark_status(
            status, graph_message_id=message_id or None, notification_id=notification_id, error_code=error_code
        )
        if moved and status == FAILED and error_code == RE_ENGAGEMENT:
            self.store.reschedule(
                notification_id, now or dt.datetime.now(UTC), "delivered after the window closed: sent as a template"
            )
            logger.info("reminder %s arrived outside the window (131047): due again as a template", notification_id)
        return moved
