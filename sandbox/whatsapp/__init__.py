"""WhatsApp simulator for development: a fake Graph API, a web chat page and a terminal chat.

Run `python -m sandbox.whatsapp` (see `--help`), point the assistant's `WHATSAPP_BASE_URL` at it, and chat
at http://127.0.0.1:9001/ or with `python -m sandbox.whatsapp.chat`. Webhook body builders for tests and
benchmarks live in `sandbox.whatsapp.payloads`.
"""
