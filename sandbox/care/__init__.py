"""Sandbox CARE: serves the recorded CARE API shapes from seeded, in-memory demo data.

Run: `python -m sandbox.care --host 127.0.0.1 --port 9000`. Seed: `sandbox/care/fixtures.yml`.
"""
