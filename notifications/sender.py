"""Sending due reminders: claim, check again, send once.

A worker claims a batch of due rows (notifications/store.py: one worker per row), then for each row, just before
its send: is the patient still opted in from that phone, does CARE still back it (the appointment booked at the
same start, the medication request active with this dose), is it not too late, not in the quiet hours? Then the
message: inside WhatsApp's 24 h customer-service window (the sender's last inbound message, recorded by the
connector) an interactive message with reply buttons, outside it the registry's template (notifications/
templates.py). Both carry the notification id in `biz_opaque_callback_data` and in every button's payload.

Exactly once: `begin_send` marks the row `sending` only while the claim is still this worker's (an opt-out
cancels claimed rows, an expired claim may have been taken over), and the Graph call is made once, with no
automatic retry: a timeout or a lost connection leaves the row `unknown` for its status webhook to settle, never
resent. Graph's refusals, by code: 131047 (outside the window) -> sent again at once as the template; 131026
-> failed, undeliverable; 131049 / 131050 -> failed, not resent; 130429 / 131056 (rate limits) -> due again
after a back-off; 132015 / 132016 -> the template is paused or disabled by Meta: failed, logged as an error.

A snoozed dose is a medication reminder row whose params carry the dose's `request_id`, `local_date` and
`local_time` and `snooze_of` (the reminder snoozed): it is due at its own time, may fall in the quiet hours (the
patient asked for it) and is checked against CARE only for the request being active.

Logs carry notification ids and outcomes only: never a number, a name or a drug.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actions.care.models import Appointment
from common.dates import format_date, format_time
from connectors.whatsapp.graph import (
    GraphAuthError,
    GraphError,
    GraphOutcomeUnknown,
    GraphUnavailable,
    PairRateLimited,
    RateLimited,
)
from notifications.care import CareError, CareReads
from notifications.store import (
    FAILED,
    SENT,
    SKIPPED,
    TEMPLATE_APPROVED,
    UNKNOWN,
    Notification,
    NotificationStore,
    Target,
)
from notifications.templates import STOP_INTENT, Registry, Template, button_payload, registry, render
from notifications.timing import (
    APPOINTMENTS,
    MEDICATIONS,
    QuietHours,
    in_quiet_hours,
    medication_reminders,
    parse_clock,
    parse_instant,
    zone,
)

logger = logging.getLogger(__name__)

UTC = dt.timezone.utc
RESCHEDULED, LOST, LEFT = "rescheduled", "lost", "left"

RE_ENGAGEMENT = 131047
UNDELIVERABLE = 131026
NOT_RESENT = {131049: "not sent: Meta limits messages to this user for now", 131050: "the user stopped these messages"}
TEMPLATE_PAUSED = {132015: "template paused by Meta", 132016: "template disabled by Meta"}

INTERACTIVE_BUTTONS_MAX = 3  # WhatsApp's reply buttons; "Stop reminders" becomes the footer's STOP
STOP_FOOTER = "Reply STOP to stop these reminders"


@dataclass(frozen=True)
class SendConfig:
    tz: dt.tzinfo
    quiet: QuietHours | None = None
    batch_size: int = 50
    language: str = "en"
    window: dt.timedelta = dt.timedelta(hours=24)
    # an interactive message is not started in the window's last minutes: it could arrive after it closed
    window_margin: dt.timedelta = dt.timedelta(minutes=10)
    # a medication reminder this late is worse than none (the next dose may be near)
    medication_late: dt.timedelta = dt.timedelta(minutes=60)
    # rows of a batch are not begun this close to the end of their claim (another worker may take them over)
    claim_margin: dt.timedelta = dt.timedelta(seconds=5)
    retry_later: dt.timedelta = dt.timedelta(minutes=2)  # CARE or Graph unavailable
    # rate limits: this, doubled per attempt, at most 15 min; the business number's throughput (130429) frees up
    # in seconds, the same user's (131056) takes longer
    backoff: dt.timedelta = dt.timedelta(seconds=5)
    pair_backoff: dt.timedelta = dt.timedelta(seconds=60)
    max_attempts: int = 8
    hospital_name: str = "the hospital"  # when CARE's appointment names no facility

    @classmethod
    def from_settings(cls, settings: Any = None, **overrides: Any) -> SendConfig:
        if settings is None:
            from settings import get_settings

            settings = get_settings()
        values: dict[str, Any] = {
            "tz": zone(settings.care_timezone),
            "quiet": QuietHours.parse(settings.medication_quiet_hours),
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class BatchResult:
    claimed: int = 0
    abandoned: int = 0  # rows another worker left `sending` when it stopped: now `unknown`
    outcomes: Counter[str] = field(default_factory=Counter)  # sent, skipped, failed, unknown, rescheduled, ...
    modes: Counter[str] = field(default_factory=Counter)  # interactive / template, of the sent ones

    def as_dict(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "abandoned": self.abandoned, **self.outcomes, **self.modes}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class _CareFacts:
    """CARE's answers for one batch: each patient's appointments and medication requests read once."""

    def __init__(self, care: CareReads) -> None:
        self._care = care
        self._appointments: dict[str, Sequence[Appointment] | CareError] = {}
        self._medications: dict[str, Sequence[Mapping[str, Any]] | CareError] = {}

    def appointment(self, patient_id: str, appointment_id: str) -> Appointment | None:
        if patient_id not in self._appointments:
            try:
                self._appointments[patient_id] = self._care.appointments(patient_id)
            except CareError as exc:
                self._appointments[patient_id] = exc
        found = self._appointments[patient_id]
        if isinstance(found, CareError):
            raise found
        return next((a for a in found if a.id == appointment_id), None)

    def medication_request(self, patient_id: str, request_id: str) -> Mapping[str, Any] | None:
        if patient_id not in self._medications:
            try:
                self._medications[patient_id] = self._care.medication_requests(patient_id)
            except CareError as exc:
                self._medications[patient_id] = exc
        found = self._medications[patient_id]
        if isinstance(found, CareError):
            raise found
        return next((r for r in found if str(r.get("id") or "") == request_id), None)


@dataclass(frozen=True)
class _Message:
    template: Template
    values: dict[str, str]  # the template's params by name


class Sender:
    """Sends one claimed batch at a time (`run`). `send` posts a Graph `/messages` body once and returns the
    wamid, or raises a connectors.whatsapp.graph error (GraphClient.send_message_sync with retries=0)."""

    def __init__(
        self,
        store: NotificationStore,
        care: CareReads,
        send: Callable[[Mapping[str, Any]], str],
        config: SendConfig,
        *,
        now: Callable[[], dt.datetime] = _utcnow,
        templates: Registry | None = None,
    ) -> None:
        self.store = store
        self.care = care
        self.send = send
        self.config = config
        self.now = now
        self.templates = templates or registry()
        self._template_statuses: dict[tuple[str, str], str] = {}

    def run(self, worker_id: str, horizon: dt.timedelta = dt.timedelta(0)) -> BatchResult:
        """Claims one batch of due reminders and settles each: sent, skipped, failed, unknown or due again.
        `horizon`: also the reminders due within it, each checked as if its due time had come (CARE, quiet
        hours, lateness, the window at that time): `python -m notifications.tasks send-due --horizon-hours`."""
        result = BatchResult()
        now = self.now()
        result.abandoned = self.store.abandon_sends(now)
        if result.abandoned:
            logger.warning("%d reminder(s) left mid-send by a stopped worker are now unknown", result.abandoned)
        rows = self.store.claim_due(now, worker_id, limit=self.config.batch_size, due_until=now + horizon)
        result.claimed = len(rows)
        if not rows:
            return result
        targets = self.store.targets({(r.patient_id, r.purpose) for r in rows})
        self._template_statuses = self.store.template_statuses()  # once a batch: synced rarely, read often
        facts = _CareFacts(self.care)
        for row in rows:
            try:
                outcome = self._one(row, worker_id, targets.get((row.patient_id, row.purpose)), facts, result)
            except Exception as exc:  # one bad row must not stop the batch; its claim runs out
                logger.error("reminder %s: %s; left for a later attempt", row.id, type(exc).__name__)
                logger.debug("traceback", exc_info=True)
                outcome = LEFT
            result.outcomes[outcome] += 1
        return result

    # ---- one row ----------------------------------------------------------------------------------------------

    def _one(
        self, row: Notification, worker_id: str, target: Target | None, facts: _CareFacts, result: BatchResult
    ) -> str:
        now = self.now()
        margin = min(self.config.claim_margin, dt.timedelta(seconds=self.store.claim_seconds / 4))
        if row.claim_expires_at is not None and now >= row.claim_expires_at - margin:
            return LEFT  # too little of the claim is left: another worker takes it over
        if row.attempts > self.config.max_attempts:
            self.store.mark_failed(row.id, row.error_code, f"gave up after {row.attempts - 1} attempts")
            return FAILED
        if target is None:
            return self._skip(row, "not opted in")
        now = max(now, row.due_at)  # a reminder sent ahead of its time (a horizon) is checked as at its time
        try:
            message = self._check(row, target, facts, now)
        except CareError as exc:
            logger.warning("reminder %s: CARE unavailable (%s), due again later", row.id, type(exc).__name__)
            self.store.reschedule(row.id, now + self.config.retry_later, "CARE unavailable")
            return RESCHEDULED
        if isinstance(message, str):
            return self._skip(row, message)
        interactive = row.error_code != RE_ENGAGEMENT and self._inside_window(target, now)
        if not self.store.begin_send(row.id, worker_id):
            return LOST  # cancelled by an opt-out meanwhile, or taken over after the claim ran out
        return self._send(row, target, message, interactive, result)

    def _skip(self, row: Notification, reason: str) -> str:
        self.store.mark_skipped(row.id, reason)
        logger.info("reminder %s skipped: %s", row.id, reason)
        return SKIPPED

    def _inside_window(self, target: Target, now: dt.datetime) -> bool:
        last = target.last_inbound_at
        return last is not None and now < last + self.config.window - self.config.window_margin

    def _check(self, row: Notification, target: Target, facts: _CareFacts, now: dt.datetime) -> _Message | str:
        """The message to send, or why not to send it (a reason for the row)."""
        if row.purpose == APPOINTMENTS:
            return self._check_appointment(row, facts, now)
        if row.purpose == MEDICATIONS:
            return self._check_medication(row, target, facts, now)
        return f"no sender for purpose {row.purpose}"

    def _check_appointment(self, row: Notification, facts: _CareFacts, now: dt.datetime) -> _Message | str:
        params = row.params
        slot_start = parse_instant(params.get("slot_start"))
        if slot_start is None or slot_start <= now:
            return "the appointment time has passed"
        appointment = facts.appointment(row.patient_id, str(params.get("appointment_id") or ""))
        if appointment is None:
            return "appointment not found in CARE"
        if appointment.status != "booked":
            return "appointment cancelled in CARE"
        if appointment.start is None or appointment.start.astimezone(UTC) != slot_start:
            return "appointment moved in CARE"
        local = slot_start.astimezone(self.config.tz)
        return _Message(
            self._template(row.kind),
            {
                "hospital_name": appointment.facility_name or self.config.hospital_name,
                "date": format_date(local.date()),
                "time": format_time(local.time()),
            },
        )

    def _check_medication(
        self, row: Notification, target: Target, facts: _CareFacts, now: dt.datetime
    ) -> _Message | str:
        params = row.params
        try:
            day = dt.date.fromisoformat(str(params.get("local_date")))
            clock = parse_clock(str(params.get("local_time")))
        except ValueError:
            return "no dose time in the reminder"
        dose_at = dt.datetime.combine(day, clock, tzinfo=self.config.tz).astimezone(UTC)
        snooze = bool(params.get("snooze_of"))
        if now - (row.due_at if snooze else dose_at) > self.config.medication_late:
            return "too late for this dose"
        chosen = bool(params.get("chosen")) or snooze  # times the patient asked for may fall in the quiet hours
        if not chosen and in_quiet_hours(now, self.config.tz, self.config.quiet):
            return "quiet hours"
        request = facts.medication_request(row.patient_id, str(params.get("request_id") or ""))
        if request is None or request.get("status") != "active":
            return "medication no longer active in CARE"
        if not snooze:
            still = medication_reminders(
                request,
                start=dose_at,
                end=dose_at + dt.timedelta(minutes=1),
                tz=self.config.tz,
                chosen_times=target.consent.medication_times,
                quiet=self.config.quiet,
            )
            if row.key not in {r.key for r in still}:
                return "medication times changed in CARE"
        return _Message(self._template(row.kind), {"time": format_time(clock)})

    def _template(self, name: str) -> Template:
        template = self.templates.get(name, self.config.language)
        if template is None:
            raise KeyError(f"no template {name!r} ({self.config.language}) in the registry")
        return template

    # ---- the send ---------------------------------------------------------------------------------------------

    def _send(
        self, row: Notification, target: Target, message: _Message, interactive: bool, result: BatchResult
    ) -> str:
        if interactive:
            payload = interactive_message(target.phone_e164, message.template, message.values, row.id)
        else:
            template = message.template
            status = self._template_statuses.get((template.name, template.language))
            if status is not None and status != TEMPLATE_APPROVED:
                logger.error(
                    "WhatsApp template %s (%s) is %s, not approved; reminder %s not sent",
                    template.name,
                    template.language,
                    status,
                    row.id,
                )
                self.store.mark_failed(row.id, None, f"template {template.name} is {status}")
                return FAILED
            payload = render(
                message.template.name,
                to=target.phone_e164,
                params=message.values,
                notification_id=row.id,
                language=message.template.language,
                templates=self.templates,
            )
        mode = "interactive" if interactive else "template"
        try:
            wamid = self.send(payload)
        except GraphError as exc:
            if interactive and exc.code == RE_ENGAGEMENT:  # our window record was wrong: the template may go
                logger.info("reminder %s: outside the window after all (131047), sent as a template", row.id)
                return self._send(row, target, message, False, result)
            return self._refused(row, exc, message.template)
        self.store.mark_sent(row.id, wamid)
        result.modes[mode] += 1
        logger.info("reminder %s sent (%s)", row.id, mode)
        return SENT

    def _refused(self, row: Notification, exc: GraphError, template: Template) -> str:
        now = self.now()
        code = exc.code
        if isinstance(exc, GraphOutcomeUnknown):
            self.store.mark_unknown(row.id, f"send {exc.title}: settled by its status webhook")
            logger.warning("reminder %s: no answer from Graph (%s); not resent", row.id, exc.title)
            return UNKNOWN
        if isinstance(exc, RateLimited):
            base = self.config.pair_backoff if isinstance(exc, PairRateLimited) else self.config.backoff
            wait = max(base * (2 ** max(row.attempts - 1, 0)), dt.timedelta(seconds=exc.retry_after or 0))
            self.store.reschedule(row.id, now + min(wait, dt.timedelta(minutes=15)), f"rate limited ({code})")
            return RESCHEDULED
        if code in TEMPLATE_PAUSED:
            logger.error(
                "WhatsApp template %s (%s): %s (code %s); its reminders fail until it is fixed",
                template.name,
                template.language,
                TEMPLATE_PAUSED[code],
                code,
            )
            self.store.mark_failed(row.id, code, TEMPLATE_PAUSED[code])
            return FAILED
        if isinstance(exc, (GraphAuthError, GraphUnavailable)):
            level = logging.ERROR if isinstance(exc, GraphAuthError) else logging.WARNING
            logger.log(level, "reminder %s: %s (code %s), due again later", row.id, type(exc).__name__, code)
            self.store.reschedule(row.id, now + self.config.retry_later, f"{type(exc).__name__} ({code})")
            return RESCHEDULED
        if code == UNDELIVERABLE:
            reason = "undeliverable"
        elif code is not None and code in NOT_RESENT:
            reason = NOT_RESENT[code]
        else:
            reason = f"refused by Graph: {type(exc).__name__}"
        self.store.mark_failed(row.id, code, reason)
        logger.warning("reminder %s failed (code %s): %s", row.id, code, reason)
        return FAILED


def interactive_message(to: str, template: Template, values: Mapping[str, str], notification_id: int) -> dict[str, Any]:
    """The reminder as an interactive message (inside the 24 h window): the template's text, its action buttons
    as reply buttons with the same payloads, and STOP in the footer (WhatsApp allows 3 reply buttons)."""
    buttons = [b for b in template.buttons if b.intent != STOP_INTENT][:INTERACTIVE_BUTTONS_MAX]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "interactive",
        "biz_opaque_callback_data": str(notification_id),
        "interactive": {
            "type": "button",
            "body": {"text": template.text([" ".join(str(values[p]).split()) for p in template.params])},
            "footer": {"text": STOP_FOOTER},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button_payload(b.intent, notification_id), "title": b.text}}
                    for b in buttons
                ]
            },
        },
    }
