"""The shared layer: what patients and staff have in common, written once.

`clock` (the hospital's time zone and now), `turn` (what the latest message said), `who` (who is logged in),
`clients` (the CARE clients and calls), `errors` (CARE failures in plain words), `forms` (the form base),
`menus`. Both parts import this package; it imports neither part.
"""
