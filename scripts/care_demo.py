"""A short tour of the CARE client against the sandbox: OTP login, a patient's medications, a
practitioner's free slots and a booked appointment. Prints short lines; no tokens, masked phones.

    .venv/bin/python scripts/care_demo.py                       # starts a sandbox on a free port
    .venv/bin/python scripts/care_demo.py --url http://127.0.0.1:9000 --phone 919123456789
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.care.client import CareClient  # noqa: E402
from actions.care.errors import CareError  # noqa: E402
from common.phone import mask_phone  # noqa: E402

SANDBOX_USER, SANDBOX_PASSWORD, SANDBOX_OTP = "care-doctor", "Ohcn@123", "45612"  # sandbox fixtures, not secrets


@contextmanager
def sandbox(url: str | None) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.care", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/api/v1/users/getcurrentuser/", timeout=0.5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        print(f"sandbox CARE started on {base}")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def local(moment: dt.datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %H:%M") if moment else "?"


def tour(base: str, phone: str, practitioner_name: str, tz: ZoneInfo) -> None:
    care = CareClient.create(base, username=SANDBOX_USER, password=SANDBOX_PASSWORD, timeout=5)

    care.send_otp(phone)
    print(f"OTP sent to {mask_phone(phone)}")
    token = care.login_otp(phone, SANDBOX_OTP)
    print(f"patient login ok for {mask_phone(token.phone_number)}, valid until {local(token.expires_at, tz)}")
    me = care.as_patient(token)
    family = me.list_patients()
    print(f"{len(family)} patient(s) on this phone: {', '.join(p.name for p in family) or 'none'}")
    if not family:
        return
    patient = family[0]

    meds = care.list_medication_requests(patient.id)
    print(f"{patient.name}: {len(meds)} medication(s)")
    for m in meds:
        print(f"  - {m.name} {m.dose}, {m.frequency}, {m.route} [{m.status}]: {m.instructions}")

    fac = care.current_user().facilities[0]
    doctor = next((p for p in care.list_practitioners(fac.id) if practitioner_name.lower() in p.name.lower()), None)
    if doctor is None:
        print(f"no practitioner matching {practitioner_name!r} at {fac.name}")
        return
    today = dt.datetime.now(tz).date()
    for i in range(1, 15):
        day = today + dt.timedelta(days=i)
        free = [s for s in me.get_slots_for_day(fac.id, doctor.id, day) if s.is_free]
        if free:
            break
    else:
        print(f"{doctor.name} has no free slot in the next two weeks")
        return
    times = ", ".join(local(s.start, tz)[-5:] for s in free[:4])
    print(f"{doctor.name} on {day:%a %d %b}: {len(free)} free slot(s), first {times}")

    booked = me.book_appointment(free[0].id, patient.id, "Booked from care_demo.py")
    print(
        f"booked: {booked.patient_name} with {booked.practitioner.name if booked.practitioner else '?'} "
        f"on {local(booked.start, tz)} ({booked.status}, appointment {booked.id[:8]})"
    )
    upcoming = [a for a in me.list_appointments() if not a.is_cancelled]
    print(f"{len(upcoming)} upcoming appointment(s) on this phone")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running sandbox CARE (default: start one)")
    ap.add_argument("--phone", default="919876543210", help="the patient's phone (WhatsApp form is fine)")
    ap.add_argument("--practitioner", default="Asha Menon")
    ap.add_argument("--timezone", default="Asia/Kolkata")
    args = ap.parse_args(argv)
    try:
        with sandbox(args.url) as base:
            tour(base, args.phone, args.practitioner, ZoneInfo(args.timezone))
    except CareError as exc:
        print(f"CARE said no: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
