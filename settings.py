"""The one place that reads the environment.

Every other module (connector, actions, sandbox, scripts) imports `get_settings()` instead of touching
`os.environ`. A `.env` file in the project root is read for local use; real environment variables win.
Secrets have no default that could reach production: the defaults are for the embedded sandbox only.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent


def _env() -> dict[str, str]:
    # .env first, then the real environment on top of it
    values = (
        {k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None} if (ROOT / ".env").exists() else {}
    )
    values.update(os.environ)
    return values


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _switch(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name} must be on or off, got {raw!r}")


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _hours_list(env: dict[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    """ "24,2" -> (24.0, 2.0): positive hours, largest first, each once."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        hours = sorted({float(part) for part in raw.split(",") if part.strip()}, reverse=True)
    except ValueError as exc:
        raise ValueError(f"{name} must be hours separated by commas, e.g. 24,2; got {raw!r}") from exc
    if not hours or hours[-1] <= 0:
        raise ValueError(f"{name} must be positive hours separated by commas, e.g. 24,2; got {raw!r}")
    return tuple(hours)


_CLOCK_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def _clock_range(env: dict[str, str], name: str, default: str) -> str:
    """ "22:00-07:00" (may wrap past midnight) or "off" (kept as ""): checked here, read by notifications/."""
    raw = env.get(name, "").strip().replace(" ", "")
    if not raw:
        return default
    if raw.lower() in ("off", "none"):
        return ""
    if not _CLOCK_RANGE.match(raw):
        raise ValueError(f"{name} must be HH:MM-HH:MM (e.g. 22:00-07:00) or off, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    # WhatsApp Cloud API (names as in the original plugin)
    whatsapp_access_token: str = ""
    whatsapp_phone_number_id: str = ""
    # the WhatsApp Business Account that owns the templates (`python -m notifications.templates create|sync`)
    whatsapp_business_account_id: str = ""
    whatsapp_webhook_verify_token: str = ""
    whatsapp_webhook_secret: str = ""
    whatsapp_api_version: str = "v21.0"
    whatsapp_base_url: str = "https://graph.facebook.com"
    whatsapp_bot_name: str = "CARE Assistant"
    whatsapp_bot_welcome_message: str = "I can help you with your hospital records, medications and appointments."
    whatsapp_session_timeout_hours: float = 24.0
    whatsapp_max_message_length: int = 4096
    whatsapp_timeout_seconds: float = 10.0
    whatsapp_max_retries: int = 3

    # CARE
    care_base_url: str = "http://127.0.0.1:9000"
    care_username: str = ""
    care_password: str = ""
    care_timeout_seconds: float = 8.0
    care_max_retries: int = 2
    care_timezone: str = "Asia/Kolkata"

    # the hospital's people: said to anyone who signals an emergency or asks for a person
    hospital_emergency_number: str = ""
    national_ambulance_number: str = "108"
    national_emergency_number: str = "112"
    hospital_helpdesk_number: str = ""
    hospital_helpdesk_hours: str = "Monday to Saturday, 8 am to 8 pm"
    mental_health_helpline: str = "14416"  # Tele-MANAS, India's national mental health line

    # the assistant's own records (call-back requests, ...): SQLite in .run/ by default, PostgreSQL in production
    assistant_database_url: str = ""
    # seals phone numbers and notes at rest and keys pseudonyms (sessions/crypto.py); empty: a key made once
    # and kept in .run/ (embedded default only: production must set it)
    assistant_secret_key: str = ""

    # reminders (notifications/): hours before an appointment; no medication reminder in the quiet hours
    # (hospital time) unless the patient chose that time; how long a worker holds a claimed reminder before
    # another may take it (longer than a send with its retries, so a slow send is not sent twice)
    appointment_reminder_offsets_hours: tuple[float, ...] = (24.0, 2.0)
    medication_quiet_hours: str = "22:00-07:00"
    notification_claim_seconds: int = 300
    # the reminder workers (notifications/celery_app.py): Celery's broker (empty: Redis at REDIS_URL when set,
    # else a SQLite file in .run/ that needs no server), a prefix for its Redis keys (several deployments or test
    # runs on one Redis), how often due reminders are sent, how often each opted-in patient is read from CARE
    celery_broker_url: str = ""
    celery_key_prefix: str = ""
    reminder_send_seconds: float = 15.0
    reminder_rescan_minutes: int = 60

    # stores
    redis_url: str = ""
    tracker_store_url: str = ""
    session_store_url: str = ""
    dedupe_capacity: int = 10000
    dedupe_ttl_seconds: int = 7 * 24 * 3600  # Meta retries deliveries for days

    # where the Rasa server finds the action server (for the health check)
    action_endpoint_url: str = "http://127.0.0.1:5055/webhook"

    log_level: str = "INFO"

    # off: plain Rasa, none of rasa_tuning's patches (README, Rasa patches)
    rasa_tuning: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = _env() if env is None else env
        return cls(
            whatsapp_access_token=e.get("WHATSAPP_ACCESS_TOKEN", ""),
            whatsapp_phone_number_id=e.get("WHATSAPP_PHONE_NUMBER_ID", ""),
            whatsapp_business_account_id=e.get("WHATSAPP_BUSINESS_ACCOUNT_ID", "").strip(),
            whatsapp_webhook_verify_token=e.get("WHATSAPP_WEBHOOK_VERIFY_TOKEN", ""),
            whatsapp_webhook_secret=e.get("WHATSAPP_WEBHOOK_SECRET", ""),
            whatsapp_api_version=e.get("WHATSAPP_API_VERSION", "") or cls.whatsapp_api_version,
            whatsapp_base_url=(e.get("WHATSAPP_BASE_URL", "") or cls.whatsapp_base_url).rstrip("/"),
            whatsapp_bot_name=e.get("WHATSAPP_BOT_NAME", "") or cls.whatsapp_bot_name,
            whatsapp_bot_welcome_message=e.get("WHATSAPP_BOT_WELCOME_MESSAGE", "") or cls.whatsapp_bot_welcome_message,
            whatsapp_session_timeout_hours=_float(
                e, "WHATSAPP_SESSION_TIMEOUT_HOURS", cls.whatsapp_session_timeout_hours
            ),
            whatsapp_max_message_length=_int(e, "WHATSAPP_MAX_MESSAGE_LENGTH", cls.whatsapp_max_message_length),
            whatsapp_timeout_seconds=_float(e, "WHATSAPP_TIMEOUT_SECONDS", cls.whatsapp_timeout_seconds),
            whatsapp_max_retries=_int(e, "WHATSAPP_MAX_RETRIES", cls.whatsapp_max_retries),
            care_base_url=(e.get("CARE_BASE_URL", "") or cls.care_base_url).rstrip("/"),
            care_username=e.get("CARE_USERNAME", ""),
            care_password=e.get("CARE_PASSWORD", ""),
            care_timeout_seconds=_float(e, "CARE_TIMEOUT_SECONDS", cls.care_timeout_seconds),
            care_max_retries=_int(e, "CARE_MAX_RETRIES", cls.care_max_retries),
            care_timezone=e.get("CARE_TIMEZONE", "") or cls.care_timezone,
            hospital_emergency_number=e.get("HOSPITAL_EMERGENCY_NUMBER", "").strip(),
            national_ambulance_number=e.get("NATIONAL_AMBULANCE_NUMBER", "").strip() or cls.national_ambulance_number,
            national_emergency_number=e.get("NATIONAL_EMERGENCY_NUMBER", "").strip() or cls.national_emergency_number,
            hospital_helpdesk_number=e.get("HOSPITAL_HELPDESK_NUMBER", "").strip(),
            hospital_helpdesk_hours=e.get("HOSPITAL_HELPDESK_HOURS", "").strip() or cls.hospital_helpdesk_hours,
            mental_health_helpline=e.get("MENTAL_HEALTH_HELPLINE", "").strip() or cls.mental_health_helpline,
            assistant_database_url=e.get("ASSISTANT_DATABASE_URL", "").strip(),
            assistant_secret_key=e.get("ASSISTANT_SECRET_KEY", "").strip(),
            appointment_reminder_offsets_hours=_hours_list(
                e, "APPOINTMENT_REMINDER_OFFSETS_HOURS", cls.appointment_reminder_offsets_hours
            ),
            medication_quiet_hours=_clock_range(e, "MEDICATION_QUIET_HOURS", cls.medication_quiet_hours),
            notification_claim_seconds=_int(e, "NOTIFICATION_CLAIM_SECONDS", cls.notification_claim_seconds),
            celery_broker_url=e.get("CELERY_BROKER_URL", "").strip(),
            celery_key_prefix=e.get("CELERY_KEY_PREFIX", "").strip(),
            reminder_send_seconds=_float(e, "REMINDER_SEND_SECONDS", cls.reminder_send_seconds),
            reminder_rescan_minutes=_int(e, "REMINDER_RESCAN_MINUTES", cls.reminder_rescan_minutes),
            redis_url=e.get("REDIS_URL", ""),
            tracker_store_url=e.get("TRACKER_STORE_URL", ""),
            session_store_url=e.get("SESSION_STORE_URL", ""),
            dedupe_capacity=_int(e, "DEDUPE_CAPACITY", cls.dedupe_capacity),
            dedupe_ttl_seconds=_int(e, "DEDUPE_TTL_SECONDS", cls.dedupe_ttl_seconds),
            action_endpoint_url=e.get("ACTION_ENDPOINT_URL", "") or cls.action_endpoint_url,
            log_level=(e.get("LOG_LEVEL", "") or cls.log_level).upper(),
            rasa_tuning=_switch(e, "RASA_TUNING", cls.rasa_tuning),
        )

    @property
    def graph_messages_url(self) -> str:
        return f"{self.whatsapp_base_url}/{self.whatsapp_api_version}/{self.whatsapp_phone_number_id}/messages"

    @property
    def graph_templates_url(self) -> str:
        """`/{version}/{waba_id}/message_templates`, or "" when no WhatsApp Business Account is configured."""
        if not self.whatsapp_business_account_id:
            return ""
        base = f"{self.whatsapp_base_url}/{self.whatsapp_api_version}"
        return f"{base}/{self.whatsapp_business_account_id}/message_templates"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


# ---- production: what a real deployment must set, and the defaults endpoints.production.yml relies on ----------

# The assistant itself (the Rasa server and the action server read these through Settings). CARE_BASE_URL has a
# default only for the sandbox, so a production run must name its CARE.
PRODUCTION_REQUIRED = (
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_WEBHOOK_VERIFY_TOKEN",
    "WHATSAPP_WEBHOOK_SECRET",
    "CARE_BASE_URL",
    "CARE_USERNAME",
    "CARE_PASSWORD",
    "HOSPITAL_EMERGENCY_NUMBER",
    "HOSPITAL_HELPDESK_NUMBER",
    "ASSISTANT_SECRET_KEY",
    "ASSISTANT_DATABASE_URL",
)
# The stores in endpoints.production.yml that have no sensible default.
PRODUCTION_STORES_REQUIRED = ("TRACKER_DB_HOST", "TRACKER_DB_NAME", "TRACKER_DB_USER", "REDIS_HOST")
# The rest of endpoints.production.yml. Rasa expands ${VARS} from the process environment only and knows no
# defaults, so `scripts/production.py` puts these (and .env) into the environment before it starts Rasa.
PRODUCTION_DEFAULTS = {
    "ACTION_ENDPOINT_URL": Settings.action_endpoint_url,
    "TRACKER_DB_PORT": "5432",
    "TRACKER_DB_PASSWORD": "",  # empty: trust or peer authentication
    "REDIS_PORT": "6379",
    "REDIS_PASSWORD": "",
    "REDIS_LOCK_DB": "1",
}


def production_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a production process: `.env`, the real environment on top, and PRODUCTION_DEFAULTS
    for whatever is unset or empty (so `${VARS}` in endpoints.production.yml see `.env` and the defaults)."""
    values = dict(_env() if env is None else env)
    for name, default in PRODUCTION_DEFAULTS.items():
        if not values.get(name, "").strip():
            values[name] = default
    return values


def missing_for_production(env: dict[str, str] | None = None, *, stores: bool = True) -> list[str]:
    """The names of the production settings that are unset or empty (in `.env` or the environment), in
    documentation order; `stores=False` leaves out those only endpoints.production.yml needs."""
    values = _env() if env is None else env
    names = PRODUCTION_REQUIRED + (PRODUCTION_STORES_REQUIRED if stores else ())
    return [name for name in names if not values.get(name, "").strip()]


def missing_message(missing: list[str]) -> str:
    """One line naming every missing production setting and where to set them."""
    return (
        f"missing production settings: {', '.join(missing)}; set them in the environment or in .env "
        f"(README, Settings; `python scripts/production.py check` checks them)"
    )


def log_missing_for_production(env: dict[str, str] | None = None) -> list[str]:
    """Called where `rasa run` starts the WhatsApp channel: ONE error line when the assistant's own production
    settings are incomplete (the stores were already read by Rasa from endpoints.yml). It does not refuse to
    start: the sandbox and tests start the channel too; `scripts/production.py` refuses instead."""
    missing = missing_for_production(env, stores=False)
    if missing:
        logging.getLogger("settings").error(missing_message(missing))
    return missing
