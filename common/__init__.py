"""Pure helpers shared by the connector, the actions and the sandboxes (no I/O, nothing heavy at import)."""
