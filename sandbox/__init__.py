"""Stand-ins for the outside services (CARE, WhatsApp) so the assistant runs with no account anywhere."""
