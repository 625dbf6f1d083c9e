"""Django's SQLite backend, with writers that wait briefly and often.

SQLite lets one writer at a time hold the file. A writer that finds it taken
waits in SQLite's busy handler, which sleeps in steps of up to 100 ms whatever
happens meanwhile: with the server, the worker and the scheduler writing a
few milliseconds each, a storm of bookings becomes seconds of idle waiting.
Here the threads of one process queue on a lock that hands over as soon as a
transaction ends, and a statement that finds the file taken by another
process is retried every millisecond or two until the configured timeout.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# One queue per database file (a test's second database has its own).
_writers: dict[str, threading.Lock] = {}
_writers_guard = threading.Lock()
# SQLite's own handler waits this long (seconds) before we retry ourselves.
_SQLITE_WAIT = 0.002
_RETRY_SLEEP = 0.001


def _writer_for(name: str) -> threading.Lock:
    with _writers_guard:
        return _writers.setdefault(str(name), threading.Lock())


def _retrying(call, deadline_seconds):
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(_RETRY_SLEEP)


class RetryingCursor(base.SQLiteCursorWrapper):
    wait_seconds = 20.0

    def execute(self, query, params=None):
        return _retrying(lambda: super(RetryingCursor, self).execute(query, params), self.wait_seconds)

    def executemany(self, query, param_list):
        # A generator could be consumed by a failed try: retry on a list.
        param_list = list(param_list)
        return _retrying(lambda: super(RetryingCursor, self).executemany(query, param_list), self.wait_seconds)


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer = None  # the lock this connection holds, while it does

    @property
    def _wait_seconds(self) -> float:
        return float(self.settings_dict["OPTIONS"].get("timeout", 5))

    def get_connection_params(self):
        params = super().get_connection_params()
        params["timeout"] = _SQLITE_WAIT
        return params

    def get_new_connection(self, conn_params):
        # The init commands (journal mode, synchronous) can find the file
        # locked too, while the last connection to close checkpoints the WAL:
        # run them with the same retries as any statement.
        commands, self.init_commands = self.init_commands, []
        try:
            connection = super().get_new_connection(conn_params)
        finally:
            self.init_commands = commands
        for command in filter(None, (command.strip() for command in commands)):
            _retrying(lambda command=command: connection.execute(command), self._wait_seconds)
        return connection

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=RetryingCursor)
        cursor.wait_seconds = self._wait_seconds
        return cursor

    def _start_transaction_under_autocommit(self):
        writer = _writer_for(self.settings_dict["NAME"])
        if not writer.acquire(timeout=self._wait_seconds):
            raise OperationalError("database is locked")
        self._holds_writer = writer
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self):
        writer, self._holds_writer = self._holds_writer, None
        if writer is not None:
            writer.release()

    def _ending(self, end):
        # However the transaction ends (commit, rollback, closing), the turn passes on.
        try:
            return end()
        finally:
            self._release_writer()

    def _commit(self):
        return self._ending(super()._commit)

    def _rollback(self):
        return self._ending(super()._rollback)

    def _close(self):
        return self._ending(super()._close)
