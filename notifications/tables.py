"""The reminder tables of the assistant's own database (ASSISTANT_DATABASE_URL: SQLite in `.run/` by default,
PostgreSQL in production), the rows read from them, and `StoreBase`, the engine over them. What each table
holds and why: notifications/store.py; the methods are split by who calls them: consents (the chat),
claims (the workers), store (scheduling, the scan, the window, template statuses, adherence)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from notifications.timing import PURPOSES
from sessions.crypto import Keys

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


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class StoreBase:
    """The engine over the reminder tables; NotificationStore's parts (consents, claims, store) build on it."""

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

    def _cancel_pending(self, conn: Any, patient_id: str, purpose: str, reason: str) -> int:
        t = notifications
        return conn.execute(
            t.update()
            .where(t.c.patient_id == patient_id, t.c.purpose == purpose, t.c.status.in_((SCHEDULED, CLAIMED)))
            .values(status=CANCELLED, reason=reason, claimed_by=None, claim_expires_at=None, updated_at=_utcnow())
        ).rowcount
