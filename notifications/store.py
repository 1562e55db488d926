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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from common.phone import mask_phone
from notifications.timing import PURPOSES, Reminder, normalise_times
from sessions.crypto import Keys, keys

UTC = dt.timezone.utc

OPTED_IN, OPTED_OUT = "in", "out"
# how a consent changed: the words of the user, a reminder's button, "yes" to an offer, a staff member, ...
METHODS = ("words", "button", "offer_yes", "offer_no", "staff", "stop_keyword")

SCHEDULED, CLAIMED, SENDING, SENT = "scheduled", "claimed", "sending", "sent"
DELIVERED, READ, FAILED, UNKNOWN, CANCELLED, SKIPPED = "delivered", "read", "failed", "unknown", "cancelled", "skipped"
STATUSES = (SCHEDULED, CLAIMED, SENDING, SENT, DELIVERED, READ, FAILED, UNKNOWN, CANCELLED, SKIPPED)
# not (known to be) sent: a status webhook may move these on
_BEFORE_SEND = (SCHEDULED, CLAIMED, SENDING, UNKNOWN, CANCELLED, SKIPPED)
# what each status from a webhook (or the send's answer) may replace: never a later one, whatever the order
# the webhooks arrive in
_MAY_REPLACE = {
    SENT: _BEFORE_SEND,
    FAILED: (*_BEFORE_SEND, SENT),
    DELIVERED: (*_BEFORE_SEND, SENT, FAILED),
    READ: (*_BEFORE_SEND, SENT, FAILED, DELIVERED),
}
WEBHOOK_STATUSES = tuple(_MAY_REPLACE)

ADHERENCE_RESPONSES = ("taken", "skipped", "snoozed")
# The keys a notification's params may have: ids and times, never a name, a drug or a diagnosis (a row is
# read by workers and the admin console, and may sit in backups for years). A new kind adds its ids here.
PARAM_KEYS = frozenset(
    {"appointment_id", "slot_start", "offset_hours", "request_id", "local_date", "local_time", "chosen", "snooze_of"}
)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, aware UTC out, on both databases (SQLite keeps no zone: it stores UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime: pass an aware one (UTC or the hospital's zone)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements only INTEGER keys

metadata = sa.MetaData()
reminder_consents = sa.Table(
    "reminder_consents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("sender_pseudonym", sa.String(64), nullable=False, index=True),
    sa.Column("phone_masked", sa.String(32), nullable=False),
    sa.Column("phone_sealed", sa.Text, nullable=False),
    sa.Column("medication_times", sa.JSON, nullable=True),  # ["08:00", "21:00"] or null: the prescription's
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("patient_id", "purpose", name="uq_reminder_consents_patient_purpose"),
    sa.Index("ix_reminder_consents_scan", "purpose", "status", "id"),
)
reminder_consent_changes = sa.Table(
    "reminder_consent_changes",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("wording_shown", sa.Text, nullable=False),
    sa.Column("sender_pseudonym", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_reminder_consent_changes_patient", "patient_id", "purpose"),
)
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(255), nullable=False, unique=True),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claim_expires_at", UTCDateTime, nullable=True),
    sa.Column("graph_message_id", sa.String(128), nullable=True, index=True),
    sa.Column("error_code", sa.Integer, nullable=True),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Index("ix_notifications_due", "status", "due_at"),
    sa.Index("ix_notifications_claims", "status", "claim_expires_at"),
    sa.Index("ix_notifications_patient", "patient_id", "purpose", "status"),
)
reminder_scans = sa.Table(
    "reminder_scans",
    metadata,
    sa.Column("consent_id", sa.Integer, primary_key=True),  # reminder_consents.id
    sa.Column("next_scan_at", UTCDateTime, nullable=False),
    # the claim's ORDER BY: read in index order, never sorted (at first every row has the same next_scan_at)
    sa.Index("ix_reminder_scans_next", "next_scan_at", "consent_id"),
)
whatsapp_windows = sa.Table(
    "whatsapp_windows",
    metadata,
    sa.Column("sender_pseudonym", sa.String(64), primary_key=True),
    sa.Column("last_inbound_at", UTCDateTime, nullable=False),
)
whatsapp_templates = sa.Table(
    "whatsapp_templates",
    metadata,
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("language", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
TEMPLATE_APPROVED = "APPROVED"
TEMPLATE_NOT_SENDABLE_SHOWN = ("PAUSED", "DISABLED")  # what the health check names
adherence = sa.Table(
    "adherence",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("patient_id", sa.String(64), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("local_date", sa.Date, nullable=False),
    sa.Column("scheduled_time", sa.String(5), nullable=False),  # "HH:MM", hospital time
    sa.Column("response", sa.String(8), nullable=False),
    sa.Column("notification_id", sa.BigInteger, nullable=True),
    sa.Column("reported_at", UTCDateTime, nullable=False),
    sa.Index("ix_adherence_patient_day", "patient_id", "local_date"),
)


@dataclass(frozen=True)
class Consent:
    patient_id: str
    purpose: str
    status: str
    sender_pseudonym: str
    phone_masked: str
    medication_times: tuple[str, ...] | None
    updated_at: dt.datetime

    @property
    def opted_in(self) -> bool:
        return self.status == OPTED_IN


@dataclass(frozen=True)
class ConsentChange:
    patient_id: str
    purpose: str
    status: str
    method: str
    wording_shown: str
    sender_pseudonym: str
    at: dt.datetime


@dataclass(frozen=True)
class Notification:
    id: int
    key: str
    patient_id: str
    purpose: str
    kind: str
    due_at: dt.datetime
    status: str
    attempts: int
    claimed_by: str | None
    claim_expires_at: dt.datetime | None
    graph_message_id: str | None
    error_code: int | None
    reason: str | None
    params: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class AdherenceAnswer:
    request_id: str
    local_date: dt.date
    scheduled_time: str
    response: str
    reported_at: dt.datetime
    notification_id: int | None


@dataclass(frozen=True)
class ScanItem:
    """One opted-in consent whose patient the scan reads from CARE now."""

    consent_id: int
    patient_id: str
    purpose: str
    medication_times: tuple[str, ...] | None


@dataclass(frozen=True)
class KnownReminder:
    """A reminder already in the table, as the scan compares it with what CARE says now."""

    id: int
    key: str
    patient_id: str
    purpose: str
    status: str


@dataclass(frozen=True)
class Target:
    """Where and how a reminder goes, read just before sending: the consent, the number it came from (unsealed
    in memory only) and the sender's last inbound message (the 24 h window), if any."""

    consent: Consent
    phone_e164: str
    last_inbound_at: dt.datetime | None


# new opt-ins are read before everyone else (the scan takes the earliest next_scan_at first)
_SCAN_AT_ONCE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def _check_aware(*moments: dt.datetime | None) -> None:
    # checked before SQL, where a naive time would be read as the server's zone or fail deep in the driver
    if any(m is not None and m.tzinfo is None for m in moments):
        raise ValueError("a naive datetime: pass an aware one (UTC or the hospital's zone)")


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")


def _check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - PARAM_KEYS)
    if unknown:
        raise ValueError(f"notification params hold ids and times only; unknown keys: {unknown}")
    for name, value in params.items():
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"notification param {name!r} must be a plain value, got {type(value).__name__}")
    return dict(params)


def _consent(row: Mapping[str, Any]) -> Consent:
    times = row["medication_times"]
    return Consent(
        patient_id=row["patient_id"],
        purpose=row["purpose"],
        status=row["status"],
        sender_pseudonym=row["sender_pseudonym"],
        phone_masked=row["phone_masked"],
        medication_times=tuple(times) if times else None,
        updated_at=row["updated_at"],
    )


def _notification(row: Mapping[str, Any]) -> Notification:
    return Notification(**{name: row[name] for name in Notification.__dataclass_fields__})


def _notification_id(value: int | str | None) -> int | None:
    """biz_opaque_callback_data comes back as text; anything not a number is not one of ours."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class NotificationStore:
    def __init__(self, url: str, sealing: Keys, *, claim_seconds: float = 300.0) -> None:
        kwargs: dict = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 10, "check_same_thread": False}
        self.engine = sa.create_engine(url, **kwargs)
        self.keys = sealing
        self.claim_seconds = claim_seconds
        self._sqlite = self.engine.dialect.name == "sqlite"
        if self._sqlite:
            # WAL: the chat reads consents while a worker holds the write lock to claim
            sa.event.listen(self.engine, "connect", _sqlite_wal)
        metadata.create_all(self.engine)

    def _insert(self, table: sa.Table) -> Any:
        return (sqlite.insert if self._sqlite else postgresql.insert)(table)

    # ---- consent ----------------------------------------------------------------------------------------------

    def set_consent(
        self,
        patient_id: str,
        purpose: str,
        *,
        opted_in: bool,
        sender: str,
        phone_e164: str,
        method: str,
        wording_shown: str,
        medication_times: Sequence[str] | None = None,
        at: dt.datetime | None = None,
    ) -> Consent:
        """Records an opt-in or opt-out of one patient for one purpose, from the phone it came from, and its
        audit row, in one transaction; an opt-out also cancels the patient's pending reminders of that purpose.
        `medication_times` ("HH:MM"): the patient's own times; None keeps those stored, [] clears them."""
        _check_purpose(purpose)
        _check_aware(at)
        if not method or len(method) > 32:
            raise ValueError("method must be a short word such as 'words', 'button' or 'offer_yes'")
        now = at or _utcnow()
        status = OPTED_IN if opted_in else OPTED_OUT
        pseudonym = self.keys.pseudonym(sender)
        values: dict[str, Any] = {
            "status": status,
            "sender_pseudonym": pseudonym,
            "phone_masked": mask_phone(phone_e164),
            "phone_sealed": self.keys.seal(phone_e164),
            "updated_at": now,
        }
        if medication_times is not None:
            values["medication_times"] = normalise_times(medication_times) or None
        t = reminder_consents
        upsert = (
            self._insert(t)
            .values(patient_id=patient_id, purpose=purpose, **values)
            .on_conflict_do_update(index_elements=[t.c.patient_id, t.c.purpose], set_=values)
        )
        with self.engine.begin() as conn:
            conn.execute(upsert)
            conn.execute(
                reminder_consent_changes.insert().values(
                    patient_id=patient_id,
                    purpose=purpose,
                    status=status,
                    method=method,
                    wording_shown=wording_shown,
                    sender_pseudonym=pseudonym,
                    at=now,
                )
            )
            if not opted_in:
                self._cancel_pending(conn, patient_id, purpose, "opted out")
            row = (
                conn.execute(sa.select(t).where(t.c.patient_id == patient_id, t.c.purpose == purpose)).mappings().one()
            )
            if opted_in:  # read from CARE by the next scan, before anyone else (new times, or back after a stop)
                s = reminder_scans
                conn.execute(
                    self._insert(s)
                    .values(consent_id=row["id"], next_scan_at=_SCAN_AT_ONCE)
                    .on_conflict_do_update(index_elements=[s.c.consent_id], set_={"next_scan_at": _SCAN_AT_ONCE})
                )
            return _consent(row)

    def consent(self, patient_id: str, purpose: str) -> Consent | None:
        t = reminder_consents
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(t).where(t.c.patient_id == patient_id, t.c.purpose == purpose))
                .mappings()
                .first()
            )
        return _consent(row) if row else None

    def consents_for_sender(self, sender: str) -> list[Consent]:
        """Every consent given or withdrawn from this phone (in and out), by patient and purpose: what "stop
        reminders" from that phone may stop."""
        t = reminder_consents
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(t)
                    .where(t.c.sender_pseudonym == self.keys.pseudonym(sender))
                    .order_by(t.c.patient_id, t.c.purpose)
                )
                .mappings()
                .all()
            )
        return [_consent(r) for r in rows]

    def opted_in(self, purpose: str, batch_size: int = 500) -> Iterator[Consent]:
        """Every patient opted in for `purpose`, for the scheduling scan: read in batches (by id), so 100,000
        patients are never in memory at once."""
        _check_purpose(purpose)
        t = reminder_consents
        last_id = 0
        while True:
            with self.engine.connect() as conn:
                rows = (
                    conn.execute(
                        sa.select(t)
                        .where(t.c.purpose == purpose, t.c.status == OPTED_IN, t.c.id > last_id)
                        .order_by(t.c.id)
                        .limit(batch_size)
                    )
                    .mappings()
                    .all()
                )
            yield from (_consent(r) for r in rows)
            if len(rows) < batch_size:
                return
            last_id = rows[-1]["id"]

    def reveal_phone(self, patient_id: str, purpose: str) -> str | None:
        """The number the opt-in came from, to send to; None unless the patient is opted in."""
        t = reminder_consents
        with self.engine.connect() as conn:
            sealed = conn.execute(
                sa.select(t.c.phone_sealed).where(
                    t.c.patient_id == patient_id, t.c.purpose == purpose, t.c.status == OPTED_IN
                )
            ).scalar()
        return self.keys.unseal(sealed) if sealed else None

    def consent_history(self, patient_id: str, purpose: str | None = None) -> list[ConsentChange]:
        t = reminder_consent_changes
        query = sa.select(t).where(t.c.patient_id == patient_id).order_by(t.c.id)
        if purpose is not None:
            query = query.where(t.c.purpose == purpose)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [ConsentChange(**{name: r[name] for name in ConsentChange.__dataclass_fields__}) for r in rows]

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

    def _cancel_pending(self, conn: Any, patient_id: str, purpose: str, reason: str) -> int:
        t = notifications
        return conn.execute(
            t.update()
            .where(t.c.patient_id == patient_id, t.c.purpose == purpose, t.c.status.in_((SCHEDULED, CLAIMED)))
            .values(status=CANCELLED, reason=reason, claimed_by=None, claim_expires_at=None, updated_at=_utcnow())
        ).rowcount

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


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@functools.lru_cache(maxsize=1)
def get_notification_store() -> NotificationStore:
    from sessions.handoffs import database_url
    from settings import get_settings

    return NotificationStore(database_url(), keys(), claim_seconds=get_settings().notification_claim_seconds)
