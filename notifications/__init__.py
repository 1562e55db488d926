"""Reminders the assistant sends on its own: appointment and medication reminders, sent once and on time.

- `timing.py` (pure): when a reminder is due, from a CARE appointment or medication request, and its key;
- `store.py`: consent per patient and purpose, due notifications (claimed atomically), adherence answers;
- `templates.py` + `templates.yml`: the WhatsApp template registry, template sends and their validation;
- the workers: `celery_app.py` and `tasks.py` (Celery, configured from settings) over `scan.py` (CARE -> due rows)
  and `sender.py` (due rows -> WhatsApp, once), `care.py` (what they read from CARE), `webhooks.py` (what the
  WhatsApp connector tells them: inbound times for the 24 h window, status webhooks).
"""
