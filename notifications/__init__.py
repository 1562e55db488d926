"""Reminders the assistant sends on its own: appointment and medication reminders, sent once and on time.

- `timing.py` (pure): when a reminder is due, from a CARE appointment or medication request, and its key;
- `store.py`: consent per patient and purpose, due notifications (claimed atomically), adherence answers;
- `templates.py` + `templates.yml`: the WhatsApp template registry, template sends and their validation.
"""
