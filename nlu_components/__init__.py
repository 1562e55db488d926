"""Rasa NLU graph components of this assistant, named in config.yml."""
