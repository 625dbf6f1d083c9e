"""Django's SQLite backend, with writers of one process queued in Python."""
