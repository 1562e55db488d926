"""The scheduling scan: opted-in patients' appointments and medication requests, read from CARE, become due
reminders in SQL (notifications/store.py); reminders CARE no longer backs are cancelled.

Run every minute by Celery beat (notifications/tasks.py), it reads only the consents whose turn has come: each
is read again every `rescan` (REMINDER_RESCAN_MINUTES), a new opt-in at once, one that CARE could not answer
for after a few minutes. So the cost of a minute is a slice of the patients, and one run that stops at its time
budget leaves the rest to the next. Each batch of consents costs a fixed handful of SQL statements (claim,
read what is known, insert the new, cancel the stale), whatever the number of reminders; the CARE reads are one
or two per patient. Reminders are scheduled `horizon` ahead (26 h: a day's reminders and an appointment's 24 h
reminder, with the rescan period to spare); a reminder due up to `grace` ago is still scheduled (a scan that ran
late), and the sender skips one that has become too late.

A reminder that CARE stops backing between two scans (an appointment cancelled or moved, a medication
stopped) is not sent anyway: the sender checks CARE again just before each send.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from notifications.care import CareError, CareReads
from notifications.store import SCHEDULED, NotificationStore, ScanItem
from notifications.timing import (
    APPOINTMENTS,
    MEDICATIONS,
    QuietHours,
    Reminder,
    appointment_reminders,
    medication_reminders,
    zone,
)

logger = logging.getLogger(__name__)

UTC = dt.timezone.utc
STALE_REASONS = {
    APPOINTMENTS: "appointment cancelled or moved in CARE",
    MEDICATIONS: "medication stopped or its times changed in CARE",
}


@dataclass(frozen=True)
class ScanConfig:
    tz: dt.tzinfo
    offsets_hours: tuple[float, ...] = (24.0, 2.0)
    quiet: QuietHours | None = None
    rescan: dt.timedelta = dt.timedelta(minutes=60)
    horizon: dt.timedelta = dt.timedelta(hours=26)
    grace: dt.timedelta = dt.timedelta(minutes=15)
    retry_after_error: dt.timedelta = dt.timedelta(minutes=5)
    batch_size: int = 500

    @classmethod
    def from_settings(cls, settings: Any = None, **overrides: Any) -> ScanConfig:
        if settings is None:
            from settings import get_settings

            settings = get_settings()
        values: dict[str, Any] = {
            "tz": zone(settings.care_timezone),
            "offsets_hours": settings.appointment_reminder_offsets_hours,
            "quiet": QuietHours.parse(settings.medication_quiet_hours),
            "rescan": dt.timedelta(minutes=settings.reminder_rescan_minutes),
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class ScanResult:
    consents: int = 0  # consents read (a patient with both purposes counts twice)
    scheduled: int = 0  # new reminders
    cancelled: int = 0  # reminders CARE no longer backs
    care_errors: int = 0  # consents CARE could not answer for (read again after retry_after_error)
    batches: int = 0
    finished: bool = False  # no consent was left due: the next run starts a new round

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


def scan(
    store: NotificationStore,
    care: CareReads,
    config: ScanConfig,
    *,
    budget_seconds: float | None = None,
    now: Callable[[], dt.datetime] = _utcnow,
) -> ScanResult:
    """Reads the consents due for a scan, a batch at a time, until none is due or `budget_seconds` is spent."""
    started = time.monotonic()
    result = ScanResult()
    store.sync_scans()
    while True:
        moment = now()
        items = store.claim_scans(moment, moment + config.rescan, config.batch_size)
        if items:
            scan_batch(store, care, config, items, moment, result)
        if len(items) < config.batch_size:
            result.finished = True
            break
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
    return result


def scan_batch(
    store: NotificationStore,
    care: CareReads,
    config: ScanConfig,
    items: Sequence[ScanItem],
    now: dt.datetime,
    result: ScanResult | None = None,
) -> ScanResult:
    """One batch of claimed consents: read CARE for each, schedule what is new, cancel what is stale."""
    result = result if result is not None else ScanResult()
    result.batches += 1
    start, end = now - config.grace, now + config.horizon
    wanted: list[tuple[Reminder, str]] = []
    read: set[tuple[str, str]] = set()  # (patient, purpose) that CARE answered for: only those lose stale rows
    failed: list[int] = []
    for item in items:
        result.consents += 1
        try:
            found = _reminders(care, config, item, start, end)
        except CareError as exc:
            failed.append(item.consent_id)
            logger.warning("scan: CARE did not answer for a consent (%s); read again later", type(exc).__name__)
            continue
        read.add((item.patient_id, item.purpose))
        wanted.extend((r, item.patient_id) for r in found)
    known = store.reminders_between([i.patient_id for i in items], start, end)
    known_keys = {k.key for k in known}
    wanted_keys = {r.key for r, _ in wanted}
    result.scheduled += store.schedule_many([(r, p) for r, p in wanted if r.key not in known_keys])
    stale: dict[str, list[int]] = defaultdict(list)
    for k in known:
        if k.status == SCHEDULED and (k.patient_id, k.purpose) in read and k.key not in wanted_keys:
            stale[k.purpose].append(k.id)
    for purpose, ids in stale.items():
        result.cancelled += store.cancel_ids(ids, STALE_REASONS.get(purpose, "no longer in CARE"))
    if failed:
        result.care_errors += len(failed)
        store.rescan_at(failed, now + min(config.retry_after_error, config.rescan))
    return result


def _reminders(
    care: CareReads, config: ScanConfig, item: ScanItem, start: dt.datetime, end: dt.datetime
) -> list[Reminder]:
    found: list[Reminder] = []
    if item.purpose == APPOINTMENTS:
        for appointment in care.appointments(item.patient_id):
            if appointment.status != "booked" or appointment.start is None or not appointment.id:
                continue
            found.extend(
                r
                for r in appointment_reminders(
                    appointment.id,
                    appointment.start,
                    offsets_hours=config.offsets_hours,
                    booked_at=appointment.booked_on,
                )
                if start <= r.due_at < end
            )
    elif item.purpose == MEDICATIONS:
        for request in care.medication_requests(item.patient_id):
            found.extend(
                medication_reminders(
                    request,
                    start=start,
                    end=end,
                    tz=config.tz,
                    chosen_times=item.medication_times,
                    quiet=config.quiet,
                )
            )
    return found
