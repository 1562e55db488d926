"""Reminder consent per patient and purpose, with its audit trail: what the chat reads and writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from common.phone import mask_phone
from notifications.tables import (
    _SCAN_AT_ONCE,
    OPTED_IN,
    OPTED_OUT,
    Consent,
    ConsentChange,
    StoreBase,
    _check_aware,
    _check_purpose,
    _consent,
    _utcnow,
    reminder_consent_changes,
    reminder_consents,
    reminder_scans,
)
from notifications.timing import normalise_times


class ConsentMethods(StoreBase):
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
