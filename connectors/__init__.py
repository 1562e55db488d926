"""Rasa input/output channels of the CARE assistant."""
