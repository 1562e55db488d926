"""Route tables by area; `ALL` is added to the app in this order (static paths before `{id}` ones)."""

from __future__ import annotations

from sandbox.care.routes import (
    appointments,
    auth,
    clinical,
    encounters,
    facility,
    mfa,
    otp,
    patients,
    service_requests,
    slots,
)

ALL = [
    auth.routes,
    mfa.routes,
    otp.routes,
    patients.routes,
    encounters.routes,
    clinical.routes,
    facility.routes,
    service_requests.routes,
    slots.routes,
    appointments.routes,
]
