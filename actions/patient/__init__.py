"""The patient part (issue 4): OTP login, whose record, records, medications, appointments, procedures.

Modules by area: `access` (session, CARE clients, errors), `login`, `family` (whose record, switching),
`sections` (the shared get_* intents), `booking`, `cancelling`. Slots hold no secrets and no record content:
tokens live in the session store (sessions/), records are fetched when asked.
"""
