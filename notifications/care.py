"""What the reminder workers read from CARE, as the assistant's service account: a patient's appointments and
medication requests. The scan schedules from them; the sender checks them again just before a send.

`CareReads` is the small interface the scan and the sender need, so tests and the benchmark give them an
in-process CARE. `ServiceAccountCare` is the real one: the project's CARE client (actions/care/) for the
appointments, and the same transport and login for the medication requests, read as CARE's JSON because the
typed `MedicationRequest` keeps only the frequency's display text, while the reminders need the dosage timing
(`frequency` per `period`, bounds, as-needed) that notifications/timing.py reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from actions.care.auth import ServiceAccountAuth
from actions.care.client import CareClient
from actions.care.errors import CareError
from actions.care.models import Appointment
from actions.care.transport import CareHttp

__all__ = ["CareError", "CareReads", "ServiceAccountCare"]

MEDICATION_REQUESTS = "/api/v1/patient/{pid}/medication/request/"


class CareReads(Protocol):
    def appointments(self, patient_id: str) -> Sequence[Appointment]:
        """The patient's appointments (any status); raises CareError when CARE cannot answer."""
        ...

    def medication_requests(self, patient_id: str) -> Sequence[Mapping[str, Any]]:
        """The patient's medication requests as CARE's JSON (any status); raises CareError."""
        ...


class ServiceAccountCare:
    def __init__(self, http: CareHttp, auth: ServiceAccountAuth) -> None:
        self._http = http
        self._auth = auth
        self.client = CareClient(http, auth)

    @classmethod
    def from_settings(cls, settings: Any = None) -> ServiceAccountCare:
        """As CareClient.from_settings(): CARE_BASE_URL, the service account, its timeouts and retries."""
        if settings is None:
            from settings import get_settings

            settings = get_settings()
        http = CareHttp(
            settings.care_base_url, timeout=settings.care_timeout_seconds, max_retries=settings.care_max_retries
        )
        return cls(http, ServiceAccountAuth(settings.care_username, settings.care_password))

    def appointments(self, patient_id: str) -> list[Appointment]:
        return self.client.list_patient_appointments(patient_id)

    def medication_requests(self, patient_id: str) -> list[Mapping[str, Any]]:
        found = self._http.paginate(MEDICATION_REQUESTS, {"pid": patient_id}, auth=self._auth)
        return [item for item in found if isinstance(item, Mapping)]
