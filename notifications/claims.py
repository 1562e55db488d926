"""What the reminder workers do to due rows: claim them, mark each send, take status webhooks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from notifications.tables import (
    _BEFORE_SEND,
    _MAY_REPLACE,
    CLAIMED,
    FAILED,
    OPTED_IN,
    SCHEDULED,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    WEBHOOK_STATUSES,
    Notification,
    StoreBase,
    Target,
    _check_aware,
    _consent,
    _notification,
    _notification_id,
    _utcnow,
    notifications,
    reminder_consents,
    whatsapp_windows,
)


class ClaimMethods(StoreBase):
    # ---- workers ----------------------------------------------------------------------------------------------

    def targets(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Target]:
        """For a claimed batch, in one query: the consent of each (patient, purpose) that is opted in, its number
        and the sender's last inbound message. A pair that is not opted in is missing from the answer."""
        wanted = set(pairs)
        if not wanted:
            return {}
        c, w = reminder_consents, whatsapp_windows
        query = (
            sa.select(c, w.c.last_inbound_at)
            .select_from(c.outerjoin(w, w.c.sender_pseudonym == c.c.sender_pseudonym))
            .where(c.c.patient_id.in_(sorted({p for p, _ in wanted})), c.c.status == OPTED_IN)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {
            (r["patient_id"], r["purpose"]): Target(
                _consent(r), self.keys.unseal(r["phone_sealed"]), r["last_inbound_at"]
            )
            for r in rows
            if (r["patient_id"], r["purpose"]) in wanted
        }

    def begin_send(self, notification_id: int, worker_id: str) -> bool:
        """The last step before the Graph call: True only while the row is still claimed by this worker (not
        cancelled by an opt-out, not taken over after the claim ran out). From here on it is never sent again
        by anyone: a crash leaves it `unknown` (see abandon_sends)."""
        t = notifications
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    t.update()
                    .where(t.c.id == notification_id, t.c.status == CLAIMED, t.c.claimed_by == worker_id)
                    .values(status=SENDING, updated_at=_utcnow())
                ).rowcount
                == 1
            )

    def abandon_sends(self, now: dt.datetime) -> int:
        """Rows whose worker stopped during the send (its claim ran out while `sending`) become `unknown`:
        Graph may have them; their status webhook settles them. Returns how many."""
        _check_aware(now)
        t = notifications
        with self.engine.begin() as conn:
            return conn.execute(
                t.update()
                .where(t.c.status == SENDING, t.c.claim_expires_at <= now)
                .values(
                    status=UNKNOWN,
                    reason="the worker stopped during the send",
                    claimed_by=None,
                    claim_expires_at=None,
                    updated_at=_utcnow(),
                )
            ).rowcount

    def claim_due(
        self,
        now: dt.datetime,
        worker_id: str,
        limit: int = 100,
        claim_seconds: float | None = None,
        *,
        due_until: dt.datetime | None = None,
    ) -> list[Notification]:
        """Claims up to `limit` reminders due at `now` (or by `due_until`, later: `send-due --horizon-hours`),
        oldest first, for `claim_seconds`: each row goes to one worker only, however many claim at once. A claim
        that ran out (its worker died) is claimed again; `attempts` counts the claims."""
        _check_aware(now)
        t = notifications
        expires = now + dt.timedelta(seconds=self.claim_seconds if claim_seconds is None else claim_seconds)
        until = max(now, due_until) if due_until is not None else now
        due = sa.or_(
            sa.and_(t.c.status == SCHEDULED, t.c.due_at <= until),
            sa.and_(t.c.status == CLAIMED, t.c.claim_expires_at <= now),
        )
        query = sa.select(t.c.id).where(due).order_by(t.c.due_at, t.c.id).limit(limit)
        with self.engine.begin() as conn:
            if self._sqlite:
                # take the write lock before reading, so no other worker reads the same rows in between
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                query = query.with_for_update(skip_locked=True)
            ids = conn.execute(query).scalars().all()
            if not ids:
                return []
            conn.execute(
                t.update()
                .where(t.c.id.in_(ids), due)
                .values(
                    status=CLAIMED,
                    claimed_by=worker_id,
                    claim_expires_at=expires,
                    attempts=t.c.attempts + 1,
                    updated_at=_utcnow(),
                )
            )
            rows = conn.execute(
                sa.select(t)
                .where(t.c.id.in_(ids), t.c.status == CLAIMED, t.c.claimed_by == worker_id)
                .order_by(t.c.due_at, t.c.id)
            ).mappings()
            return [_notification(r) for r in rows]

    def _update(self, notification_id: int, allowed_from: Sequence[str], **values: Any) -> bool:
        t = notifications
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    t.update()
                    .where(t.c.id == notification_id, t.c.status.in_(allowed_from))
                    .values(updated_at=_utcnow(), **values)
                ).rowcount
                == 1
            )

    def mark_sent(self, notification_id: int, graph_message_id: str, at: dt.datetime | None = None) -> bool:
        """Graph accepted the send. Never moves a row back: a status webhook may have come first."""
        t = notifications
        now = at or _utcnow()
        with self.engine.begin() as conn:
            return (
                conn.execute(
                    t.update()
                    .where(t.c.id == notification_id)
                    .values(
                        status=sa.case((t.c.status.in_(_BEFORE_SEND), SENT), else_=t.c.status),
                        graph_message_id=sa.func.coalesce(t.c.graph_message_id, graph_message_id),
                        sent_at=sa.func.coalesce(t.c.sent_at, now),
                        claimed_by=None,
                        claim_expires_at=None,
                        updated_at=_utcnow(),
                    )
                ).rowcount
                == 1
            )

    def mark_unknown(self, notification_id: int, reason: str = "send timed out") -> bool:
        """The send timed out: Graph may or may not have it. Never claimed again; its status webhook (which
        carries the notification id) settles it."""
        return self._update(
            notification_id, (CLAIMED, SENDING), status=UNKNOWN, reason=reason, claimed_by=None, claim_expires_at=None
        )

    def mark_failed(self, notification_id: int, error_code: int | None, reason: str) -> bool:
        """Graph refused the send (131026 undeliverable, 131047 outside the window, ...)."""
        return self._update(
            notification_id,
            _MAY_REPLACE[FAILED],
            status=FAILED,
            error_code=error_code,
            reason=reason,
            claimed_by=None,
            claim_expires_at=None,
        )

    def mark_skipped(self, notification_id: int, reason: str) -> bool:
        """Not sent after the last check (opted out, appointment moved or cancelled, quiet hours, ...)."""
        return self._update(
            notification_id, (SCHEDULED, CLAIMED), status=SKIPPED, reason=reason, claimed_by=None, claim_expires_at=None
        )

    def reschedule(self, notification_id: int, due_at: dt.datetime, reason: str) -> bool:
        """Due again at `due_at`: a back-off after a rate limit, or a retry as a template after 131047."""
        return self._update(
            notification_id,
            (CLAIMED, SENDING, FAILED),
            status=SCHEDULED,
            due_at=due_at,
            reason=reason,
            claimed_by=None,
            claim_expires_at=None,
        )

    def mark_status(
        self,
        status: str,
        *,
        graph_message_id: str | None = None,
        notification_id: int | str | None = None,
        error_code: int | None = None,
        at: dt.datetime | None = None,
    ) -> bool:
        """A status webhook (sent, delivered, read, failed), found by the notification id it carries in
        biz_opaque_callback_data or by the Graph message id. True when the row moved on; a status older than
        the row's (delivered after read) changes nothing."""
        if status not in _MAY_REPLACE:
            raise ValueError(f"a status webhook says one of {WEBHOOK_STATUSES}, not {status!r}")
        t = notifications
        row_id = _notification_id(notification_id)
        if row_id is not None:
            match = t.c.id == row_id
        elif graph_message_id:
            match = t.c.graph_message_id == graph_message_id
        else:
            return False
        now = at or _utcnow()
        values: dict[str, Any] = {"status": status, "claimed_by": None, "claim_expires_at": None}
        if graph_message_id:
            values["graph_message_id"] = sa.func.coalesce(t.c.graph_message_id, graph_message_id)
        if status == FAILED:
            values["error_code"] = error_code
        else:
            values["sent_at"] = sa.func.coalesce(t.c.sent_at, now)
        with self.engine.begin() as conn:
            moved = conn.execute(
                t.update().where(match, t.c.status.in_(_MAY_REPLACE[status])).values(updated_at=_utcnow(), **values)
            ).rowcount
        return moved == 1

    def notification(self, notification_id: int | str) -> Notification | None:
        row_id = _notification_id(notification_id)
        if row_id is None:
            return None
        return self._one(notifications.c.id == row_id)

    def by_key(self, key: str) -> Notification | None:
        return self._one(notifications.c.key == key)

    def _one(self, where: Any) -> Notification | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(notifications).where(where)).mappings().first()
        return _notification(row) if row else None
