"""Error mapping, the one re-login on a refused token, retries (only for idempotent calls) and an
unreachable CARE, with a fake CARE (`responses`) or real sockets that never answer."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import responses
from care_support import fake_jwt, free_port, recording
from responses import matchers

from actions.care.client import CareClient
from actions.care.errors import (
    CareError,
    CareForbidden,
    CareInvalid,
    CareNotFound,
    CareUnauthenticated,
    CareUnavailable,
)
from actions.care.models import PatientToken, TokenPair

BASE = "http://care.test"
ME = BASE + "/api/v1/users/getcurrentuser/"
LOGIN = BASE + "/api/v1/auth/login/"
REFRESH = BASE + "/api/v1/auth/token/refresh/"
FAC = "788d76a3-70dc-4d84-93ad-9751f20ba63f"
USER = {"id": "u1", "username": "care-doctor", "organizations": [], "facilities": [], "permissions": []}


def _pair() -> dict[str, str]:
    return {"access": fake_jwt({"token_type": "access"}), "refresh": fake_jwt({"token_type": "refresh"})}


def _service(max_retries: int = 0, timeout: float = 5.0) -> CareClient:
    return CareClient.create(BASE, username="svc", password="pw", max_retries=max_retries, timeout=timeout)


def _staff(on_refresh=None, access_expires_in: float = 3600) -> CareClient:
    tokens = TokenPair(fake_jwt({"token_type": "access"}, access_expires_in), fake_jwt({"token_type": "refresh"}))
    return CareClient.create(BASE, max_retries=0).as_staff(tokens, on_refresh)


# ---------------------------------------------------------------------- status -> typed error


@pytest.mark.usefixtures("recordings_dir")
@pytest.mark.parametrize(
    "number, error",
    [
        ("29", CareInvalid),
        ("39", CareInvalid),
        ("69", CareInvalid),
        ("82", CareInvalid),
        ("88", CareInvalid),
        ("89", CareInvalid),
        ("96", CareInvalid),
        ("20", CareInvalid),
        ("100", CareForbidden),
        ("90", CareForbidden),
        ("86", CareNotFound),
        ("52", CareNotFound),
        ("63", CareUnauthenticated),
        ("53", CareUnauthenticated),
        ("60", CareUnauthenticated),
    ],
)
def test_each_recorded_error_status_maps_to_its_error(number: str, error: type[CareError]) -> None:
    rec = recording(number)["response"]
    body = rec["body"]
    patient = CareClient.create(BASE).as_patient(PatientToken(fake_jwt(), "+919876543210"))  # never re-logs in
    with responses.RequestsMock() as rsps:
        kwargs = {"json": body} if not isinstance(body, str) else {"body": body, "content_type": "text/html"}
        rsps.add("GET", BASE + "/api/v1/otp/patient/", status=rec["status"], **kwargs)
        with pytest.raises(error) as info:
            patient.list_patients()
    assert info.value.status == rec["status"]
    if isinstance(info.value, CareInvalid):
        assert info.value.messages and all(isinstance(m, str) and m for m in info.value.messages)


@pytest.mark.usefixtures("recordings_dir")
def test_invalid_keeps_every_message_but_never_the_offending_input() -> None:
    body = recording("88")["response"]["body"]  # gender, phone and geo_organization errors
    with responses.RequestsMock() as rsps:
        rsps.add("GET", BASE + "/api/v1/facility/", status=400, json=body)
        with pytest.raises(CareInvalid) as info:
            _staff().list_facilities()
    assert [m.split(":")[0] for m in info.value.messages] == ["gender", "phone_number", "geo_organization"]
    assert not any("12345" in m or "not-a-uuid" in m for m in info.value.messages)


def test_5xx_and_non_json_answers_are_unavailable() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add("GET", BASE + "/api/v1/facility/", status=502, body="Bad Gateway")
        with pytest.raises(CareUnavailable):
            _staff().list_facilities()
    with responses.RequestsMock() as rsps:
        rsps.add("GET", BASE + "/api/v1/facility/", status=200, body="<html>proxy login</html>")
        with pytest.raises(CareUnavailable):
            _staff().list_facilities()


# ---------------------------------------------------------------------- re-login on a refused token


@pytest.mark.usefixtures("recordings_dir")
@pytest.mark.parametrize("refusal", ["59", "62"])  # expired/garbage token, and a token of the wrong type
def test_a_refused_service_token_logs_in_again_once_and_retries(refusal: str) -> None:
    first, second = _pair(), _pair()
    answers = iter([first, second])
    with responses.RequestsMock() as rsps:
        rsps.add_callback("POST", LOGIN, callback=lambda req: (200, {}, json.dumps(next(answers))))
        rsps.add(
            "GET",
            ME,
            status=403,
            json=recording(refusal)["response"]["body"],
            match=[matchers.header_matcher({"Authorization": f"Bearer {first['access']}"})],
        )
        rsps.add("GET", ME, json=USER, match=[matchers.header_matcher({"Authorization": f"Bearer {second['access']}"})])
        user = _service().current_user()
        logins = [c for c in rsps.calls if c.request.url == LOGIN]
        mes = [c for c in rsps.calls if c.request.url == ME]
    assert user.username == "care-doctor"
    assert len(logins) == 2, "one login, then exactly one fresh login after the refusal"
    assert len(mes) == 2, "exactly one retry of the refused call"


def test_a_second_refusal_after_the_fresh_login_is_unauthenticated_without_looping() -> None:
    expired = {"detail": "Invalid Token, please relogin to continue", "code": "token_not_valid", "messages": []}
    with responses.RequestsMock() as rsps:
        rsps.add_callback("POST", LOGIN, callback=lambda req: (200, {}, json.dumps(_pair())))
        rsps.add("GET", ME, status=403, json=expired)
        with pytest.raises(CareUnauthenticated):
            _service().current_user()
        assert sum(c.request.url == LOGIN for c in rsps.calls) == 2
        assert sum(c.request.url == ME for c in rsps.calls) == 2


def test_a_refused_staff_token_is_refreshed_once_and_the_new_pair_handed_back() -> None:
    expired = {"detail": "Invalid Token, please relogin to continue", "code": "token_not_valid", "messages": []}
    rotated = _pair()
    seen: list[TokenPair] = []
    with responses.RequestsMock() as rsps:
        rsps.add("GET", ME, status=403, json=expired)
        rsps.add("POST", REFRESH, json=rotated)
        rsps.add(
            "GET", ME, json=USER, match=[matchers.header_matcher({"Authorization": f"Bearer {rotated['access']}"})]
        )
        staff = _staff(on_refresh=seen.append)
        assert staff.current_user().id == "u1"
    assert [p.refresh for p in seen] == [rotated["refresh"]]


def test_a_staff_member_whose_refresh_is_refused_must_log_in_again() -> None:
    expired = {"detail": "Invalid Token, please relogin to continue", "code": "token_not_valid", "messages": []}
    with responses.RequestsMock() as rsps:
        rsps.add("GET", ME, status=403, json=expired)
        rsps.add("POST", REFRESH, status=401, json={"detail": "Token is blacklisted", "code": "token_not_valid"})
        with pytest.raises(CareUnauthenticated):
            _staff().current_user()
        assert sum(c.request.url == REFRESH for c in rsps.calls) == 1
        assert not any(c.request.url == LOGIN for c in rsps.calls), "a staff password is never kept"


def test_an_expired_staff_access_token_is_refreshed_before_the_call() -> None:
    rotated = _pair()
    with responses.RequestsMock() as rsps:
        rsps.add("POST", REFRESH, json=rotated)
        rsps.add(
            "GET", ME, json=USER, match=[matchers.header_matcher({"Authorization": f"Bearer {rotated['access']}"})]
        )
        assert _staff(access_expires_in=-60).current_user().id == "u1"


def test_a_patient_token_is_never_refreshed() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add(
            "GET",
            BASE + "/api/v1/otp/patient/",
            status=401,
            json={"detail": "Authentication credentials were not provided."},
        )
        with pytest.raises(CareUnauthenticated):
            CareClient.create(BASE).as_patient(PatientToken(fake_jwt(), "+919876543210")).list_patients()
        assert len(rsps.calls) == 1


# ---------------------------------------------------------------------- retries


def test_reads_are_retried_on_5xx_but_bookings_are_not() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add("GET", BASE + "/api/v1/facility/", status=503)
        rsps.add("GET", BASE + "/api/v1/facility/", json={"count": 0, "results": []})
        care = CareClient.create(BASE, max_retries=2, backoff=0).as_staff(TokenPair(fake_jwt(), fake_jwt()))
        assert care.list_facilities() == []
        assert len(rsps.calls) == 2
    with responses.RequestsMock() as rsps:
        rsps.add("POST", BASE + f"/api/v1/facility/{FAC}/slots/s1/create_appointment/", status=503)
        with pytest.raises(CareUnavailable):
            care.book_appointment(FAC, "s1", "p1")
        assert len(rsps.calls) == 1


def test_slots_for_a_day_is_a_post_but_a_read_so_it_is_retried() -> None:
    with responses.RequestsMock() as rsps:
        url = BASE + f"/api/v1/facility/{FAC}/slots/get_slots_for_day/"
        rsps.add("POST", url, status=504)
        rsps.add("POST", url, json={"results": []})
        care = CareClient.create(BASE, max_retries=1, backoff=0).as_staff(TokenPair(fake_jwt(), fake_jwt()))
        assert care.get_slots_for_day(FAC, "u1", dt.date(2026, 12, 3)) == []
        assert len(rsps.calls) == 2


# ---------------------------------------------------------------------- unreachable CARE


class SilentServer:
    """Accepts TCP connections and never answers (a hung CARE); counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.connections.append(conn)
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self.connections:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_care() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def _bounded(seconds: float):
    class Clock:
        def __enter__(self):
            self.start = time.monotonic()
            return self

        def __exit__(self, *exc):
            self.elapsed = time.monotonic() - self.start
            assert self.elapsed < seconds, f"took {self.elapsed:.1f}s, the bound is {seconds}s"

    return Clock()


def test_a_closed_port_is_unavailable_at_once() -> None:
    care = CareClient.create(f"http://127.0.0.1:{free_port()}", max_retries=0, timeout=2.0)
    with _bounded(2.0), pytest.raises(CareUnavailable):
        care.send_otp("+919876543210")


def test_a_care_that_never_answers_is_unavailable_within_the_timeout(silent_care: SilentServer) -> None:
    timeout, retries = 0.5, 1
    care = CareClient.create(silent_care.url, max_retries=retries, timeout=timeout, backoff=0).as_staff(
        TokenPair(fake_jwt(), fake_jwt())
    )
    # each attempt waits `timeout` at most; the bound leaves room for a slow machine, not for a hang
    with _bounded(timeout * (retries + 1) + 2.0), pytest.raises(CareUnavailable):
        care.list_facilities()
    assert len(silent_care.connections) == retries + 1


def test_a_booking_to_a_care_that_never_answers_is_sent_once(silent_care: SilentServer) -> None:
    care = CareClient.create(silent_care.url, max_retries=3, timeout=0.5).as_staff(TokenPair(fake_jwt(), fake_jwt()))
    with _bounded(0.5 + 2.0), pytest.raises(CareUnavailable):
        care.book_appointment(FAC, "slot", "patient")
    assert len(silent_care.connections) == 1, "a create is never repeated: it may have reached CARE"


def test_requests_errors_never_escape_untyped() -> None:
    with responses.RequestsMock() as rsps:
        rsps.add("GET", BASE + "/api/v1/facility/", body=requests.exceptions.SSLError("bad certificate"))
        with pytest.raises(CareUnavailable):
            _staff().list_facilities()
