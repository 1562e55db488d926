"""CARE REST client: `client.CareClient`, typed results in `models`, typed errors in `errors`.

Kept import-light on purpose (no `requests` here): actions import what they use from the submodules.
"""
