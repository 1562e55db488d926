"""Server-side session state shared by the Rasa server and the action server (see store.py)."""
