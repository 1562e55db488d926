"""Reminder consent, due notifications and patient-reported adherence, in the assistant's own database
(ASSISTANT_DATABASE_URL: SQLite in `.run/` by default, PostgreSQL in production), beside the call-back requests.

- `reminder_consents`: one row per patient and purpose (appointments, medications): in or out, from which
  phone (sealed, masked, and the sender's pseudonym: family members on one phone opt in separately), and the
  medication times the patient chose. `reminder_consent_changes` keeps every change with its method and the
  wording shown (append-only). An opt-out cancels that patient's pending reminders in the same transaction.
- `notifications`: one row per reminder, unique on its key (notifications/timing.py), so scheduling twice
  is harmless. Workers claim due rows atomically (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED; SQLite: BEGIN
  IMMEDIATE) for `claim_seconds`; a claim that ran out (a killed worker) is claimed again. A send that timed
  out is `unknown` and only a status webhook settles it: it is never claimed again. Status webhooks never move
  a row backwards (read beats delivered beats failed beats sent). Params hold ids and times only: names, drugs
  and diagnoses are fetched from CARE at send time.
- `adherence`: taken / skipped / snoozed per medication request and scheduled local time, as the patient
  reported it (append-only; the latest answer for a dose counts).
- `reminder_scans`: when each opted-in consent is next read from CARE by the scheduling scan (notifications/
  scan.py), so a scan resumes where the last one stopped and 100,000 patients are read a slice at a time.
- `whatsapp_windows`: the last inbound message per sender pseudonym (never the number): inside WhatsApp's 24 h
  customer-service window a reminder may be an interactive message, outside it only a template.
- `whatsapp_templates`: each registry template's status in the WhatsApp Business Account (APPROVED, PENDING,
  REJECTED, PAUSED, DISABLED) as `python -m notifications.templates sync` or a `message_template_status_update`
  webhook last saw it: the sender sends no template that is known and not APPROVED; the health check names the
  paused and disabled ones. A template never synced has no row and is sent (Graph refuses it if it must).

A worker marks a row `sending` just before its Graph call (`begin_send`, only while its claim is its own): a
worker killed after that point may or may not have sent it, so the row becomes `unknown` when the claim runs
out (`abandon_sends`) and is never claimed again; a row only `claimed` is taken over and sent by another.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from notifications.claims import ClaimMethods
from notifications.consents import ConsentMethods
from notifications.tables import *  # noqa: F403 (the names importers know from this module)
from notifications.tables import (
    _SCAN_AT_ONCE,
    ADHERENCE_RESPONSES,
    CANCELLED,
    OPTED_IN,
    SCHEDULED,
    AdherenceAnswer,
    KnownReminder,
    ScanItem,
    UTCDateTime,
    _check_aware,
    _check_params,
    _check_purpose,
    _utcnow,
    adherence,
    notifications,
    reminder_consents,
    reminder_scans,
    whatsapp_templates,
    whatsapp_windows,
)
from notifications.timing import Reminder, normalise_times
from sessions.crypto import keys


class NotificationStore(ConsentMethods, ClaimMethods):
    # ---- scheduling -------------------------------------------------------------------------------------------

    def schedule(
        self,
        key: str,
        *,
        patient_id: str,
        purpose: str,
        kind: str,
        due_at: dt.datetime,
        params: Mapping[str, Any] | None = None,
    ) -> bool:
        """Adds a due reminder; True when it is new, False when a reminder with this key exists already
        (whatever its status: a scan that runs again, or twice at once, schedules nothing twice)."""
        _check_purpose(purpose)
        _check_aware(due_at)
        now = _utcnow()
        insert = (
            self._insert(notifications)
            .values(
                key=key,
                patient_id=patient_id,
                purpose=purpose,
                kind=kind,
                due_at=due_at,
                status=SCHEDULED,
                attempts=0,
                params=_check_params(params or {}),
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[notifications.c.key])
        )
        with self.engine.begin() as conn:
            return conn.execute(insert).rowcount == 1

    def schedule_reminder(self, reminder: Reminder, patient_id: str) -> bool:
        """`schedule` for a reminder worked out by notifications/timing.py."""
        return self.schedule(
            reminder.key,
            patient_id=patient_id,
            purpose=reminder.purpose,
            kind=reminder.kind,
            due_at=reminder.due_at,
            params=reminder.params,
        )

    def cancel_pending_for(self, patient_id: str, purpose: str, reason: str = "opted out") -> int:
        """Cancels the patient's reminders of `purpose` not sent yet, due or not, claimed or not (a worker
        re-checks its row before it sends); returns how many."""
        _check_purpose(purpose)
        with self.engine.begin() as conn:
            return self._cancel_pending(conn, patient_id, purpose, reason)

    def cancel_stale(self, key_prefix: str, keep: Iterable[str], reason: str) -> int:
        """Cancels the scheduled reminders whose key starts with `key_prefix` and is not in `keep`: an
        appointment moved (`appt:{id}:`) or a medication whose times changed (`med:{request id}:`)."""
        t = notifications
        with self.engine.begin() as conn:
            return conn.execute(
                t.update()
                .where(
                    t.c.key.startswith(key_prefix, autoescape=True),
                    t.c.key.not_in(list(keep)),
                    t.c.status == SCHEDULED,
                )
                .values(status=CANCELLED, reason=reason, updated_at=_utcnow())
            ).rowcount

    # ---- the scheduling scan (notifications/scan.py) ----------------------------------------------------------

    def sync_scans(self) -> None:
        """Every opted-in consent has a scan row (a new one is due at once), an opted-out one has none: two
        statements, whatever the number of patients."""
        c, s = reminder_consents, reminder_scans
        missing = sa.select(c.c.id, sa.literal(_SCAN_AT_ONCE, UTCDateTime)).where(
            c.c.status == OPTED_IN, ~sa.exists().where(s.c.consent_id == c.c.id)
        )
        with self.engine.begin() as conn:
            conn.execute(
                self._insert(s)
                .from_select([s.c.consent_id, s.c.next_scan_at], missing)
                .on_conflict_do_nothing(index_elements=[s.c.consent_id])
            )
            conn.execute(s.delete().where(s.c.consent_id.in_(sa.select(c.c.id).where(c.c.status != OPTED_IN))))

    def claim_scans(self, now: dt.datetime, next_scan_at: dt.datetime, limit: int = 500) -> list[ScanItem]:
        """Up to `limit` opted-in consents due for a scan at `now`, earliest first, moved on to `next_scan_at` in
        the same transaction: two scans running at once read different patients."""
        _check_aware(now, next_scan_at)
        c, s = reminder_consents, reminder_scans
        query = (
            sa.select(s.c.consent_id, c.c.patient_id, c.c.purpose, c.c.medication_times)
            .join(c, c.c.id == s.c.consent_id)
            .where(s.c.next_scan_at <= now, c.c.status == OPTED_IN)
            .order_by(s.c.next_scan_at, s.c.consent_id)
            .limit(limit)
        )
        with self.engine.begin() as conn:
            if self._sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                query = query.with_for_update(of=s, skip_locked=True)
            rows = conn.execute(query).mappings().all()
            if rows:
                ids = [r["consent_id"] for r in rows]
                conn.execute(s.update().where(s.c.consent_id.in_(ids)).values(next_scan_at=next_scan_at))
        return [
            ScanItem(
                r["consent_id"],
                r["patient_id"],
                r["purpose"],
                tuple(r["medication_times"]) if r["medication_times"] else None,
            )
            for r in rows
        ]

    def rescan_at(self, consent_ids: Sequence[int], when: dt.datetime) -> None:
        """CARE could not be read for these: try them again at `when` (sooner than the usual period)."""
        _check_aware(when)
        if consent_ids:
            s = reminder_scans
            with self.engine.begin() as conn:
                conn.execute(s.update().where(s.c.consent_id.in_(list(consent_ids))).values(next_scan_at=when))

    def reminders_between(
        self, patient_ids: Sequence[str], start: dt.datetime, end: dt.datetime
    ) -> list[KnownReminder]:
        """The reminders of these patients due in [start, end), whatever their status: one query for a batch."""
        _check_aware(start, end)
        if not patient_ids:
            return []
        t = notifications
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.id, t.c.key, t.c.patient_id, t.c.purpose, t.c.status).where(
                    t.c.patient_id.in_(list(set(patient_ids))), t.c.due_at >= start, t.c.due_at < end
                )
            ).all()
        return [KnownReminder(*row) for row in rows]

    def schedule_many(self, reminders: Sequence[tuple[Reminder, str]]) -> int:
        """`schedule_reminder` for many (reminder, patient id) pairs in one statement; a key that exists is left
        as it is. Returns how many rows the database says it added."""
        if not reminders:
            return 0
        now = _utcnow()
        values = [
            {
                "key": r.key,
                "patient_id": patient_id,
                "purpose": r.purpose,
                "kind": r.kind,
                "due_at": r.due_at,
                "status": SCHEDULED,
                "attempts": 0,
                "params": _check_params(r.params),
                "created_at": now,
                "updated_at": now,
            }
            for r, patient_id in reminders
        ]
        for r, _ in reminders:
            _check_purpose(r.purpose)
            _check_aware(r.due_at)
        insert = self._insert(notifications).on_conflict_do_nothing(index_elements=[notifications.c.key])
        with self.engine.begin() as conn:
            added = conn.execute(insert, values).rowcount
        return added if added is not None and added >= 0 else len(values)

    def cancel_ids(self, notification_ids: Sequence[int], reason: str) -> int:
        """Cancels these reminders if they are still only scheduled (a claimed one is re-checked by its worker)."""
        if not notification_ids:
            return 0
        t = notifications
        with self.engine.begin() as conn:
            return conn.execute(
                t.update()
                .where(t.c.id.in_(list(notification_ids)), t.c.status == SCHEDULED)
                .values(status=CANCELLED, reason=reason, updated_at=_utcnow())
            ).rowcount

    # ---- the 24 h customer-service window ---------------------------------------------------------------------

    def record_inbound(self, sender: str, at: dt.datetime) -> None:
        """The sender wrote at `at`: their window is open for 24 h from then. Kept by pseudonym, never the
        number; an older time (a late redelivery) never replaces a newer one."""
        _check_aware(at)
        w = whatsapp_windows
        insert = self._insert(w).values(sender_pseudonym=self.keys.pseudonym(sender), last_inbound_at=at)
        newer = sa.case(
            (insert.excluded.last_inbound_at > w.c.last_inbound_at, insert.excluded.last_inbound_at),
            else_=w.c.last_inbound_at,
        )
        with self.engine.begin() as conn:
            conn.execute(
                insert.on_conflict_do_update(index_elements=[w.c.sender_pseudonym], set_={"last_inbound_at": newer})
            )

    def last_inbound(self, sender_pseudonym: str) -> dt.datetime | None:
        w = whatsapp_windows
        with self.engine.connect() as conn:
            return conn.execute(sa.select(w.c.last_inbound_at).where(w.c.sender_pseudonym == sender_pseudonym)).scalar()

    # ---- WhatsApp template statuses ---------------------------------------------------------------------------

    def set_template_status(self, name: str, language: str, status: str, at: dt.datetime | None = None) -> None:
        """The template's status as Graph reported it (a sync, or a status webhook)."""
        moment = at or _utcnow()
        _check_aware(moment)
        t = whatsapp_templates
        insert = self._insert(t).values(name=name, language=language, status=status.upper(), updated_at=moment)
        with self.engine.begin() as conn:
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[t.c.name, t.c.language],
                    set_={"status": insert.excluded.status, "updated_at": insert.excluded.updated_at},
                )
            )

    def template_statuses(self, statuses: Sequence[str] = ()) -> dict[tuple[str, str], str]:
        """(name, language) -> status, of all templates ever synced, or only those with one of `statuses`."""
        t = whatsapp_templates
        query = sa.select(t.c.name, t.c.language, t.c.status)
        if statuses:
            query = query.where(t.c.status.in_([s.upper() for s in statuses]))
        with self.engine.connect() as conn:
            return {(r.name, r.language): r.status for r in conn.execute(query)}

    def template_status(self, name: str, language: str) -> str | None:
        t = whatsapp_templates
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(t.c.status).where(t.c.name == name, t.c.language == language)
            ).scalar_one_or_none()

    # ---- adherence --------------------------------------------------------------------------------------------

    def record_adherence(
        self,
        patient_id: str,
        request_id: str,
        local_date: dt.date,
        scheduled_time: str,
        response: str,
        *,
        notification_id: int | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        """What the patient said about one dose (taken, skipped, snoozed); a later answer for the same dose
        counts instead (snoozed, then taken)."""
        if response not in ADHERENCE_RESPONSES:
            raise ValueError(f"response must be one of {ADHERENCE_RESPONSES}, got {response!r}")
        (time_text,) = normalise_times([scheduled_time])
        with self.engine.begin() as conn:
            conn.execute(
                adherence.insert().values(
                    patient_id=patient_id,
                    request_id=request_id,
                    local_date=local_date,
                    scheduled_time=time_text,
                    response=response,
                    notification_id=notification_id,
                    reported_at=at or _utcnow(),
                )
            )

    def adherence_on(self, patient_id: str, local_date: dt.date) -> list[AdherenceAnswer]:
        """The patient's answer for each dose of that (hospital) day, by time: "did I take my tablets today?"."""
        t = adherence
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(t).where(t.c.patient_id == patient_id, t.c.local_date == local_date).order_by(t.c.id)
                )
                .mappings()
                .all()
            )
        latest = {
            (r["request_id"], r["scheduled_time"]): AdherenceAnswer(
                r["request_id"],
                r["local_date"],
                r["scheduled_time"],
                r["response"],
                r["reported_at"],
                r["notification_id"],
            )
            for r in rows  # in id order: the last answer for a dose wins
        }
        return sorted(latest.values(), key=lambda a: (a.scheduled_time, a.request_id))


@functools.lru_cache(maxsize=1)
def get_notification_store() -> NotificationStore:
    from sessions.handoffs import database_url
    from settings import get_settings

    return NotificationStore(database_url(), keys(), claim_seconds=get_settings().notification_claim_seconds)
