"""The SQLite backend's writers: one process's threads take turns, another
process's hold on the file is waited out briefly and often, and a hold longer
than the timeout is still "database is locked". Runs on its own database file,
whatever the suite's database is."""

import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.db import OperationalError, transaction
from django.db import connections as django_connections
from django.db.utils import ConnectionHandler


@pytest.fixture
def connections(tmp_path, django_db_blocker):
    """A database "writers" of its own, beside the suite's (added for the test, then removed)."""
    settings = ConnectionHandler(
        {
            "default": {
                "ENGINE": "statuspage.sqlite3",
                "NAME": str(tmp_path / "writers.sqlite3"),
                "OPTIONS": {
                    "init_command": "PRAGMA journal_mode=WAL;",
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 2,
                },
            }
        }
    ).settings["default"]
    django_connections.settings["writers"] = settings
    with django_db_blocker.unblock():
        with django_connections["writers"].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
            cursor.execute("INSERT INTO counter VALUES (0)")
        yield django_connections
        django_connections["writers"].close()
    del django_connections["writers"]
    del django_connections.settings["writers"]


def count(handler) -> int:
    with handler["writers"].cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        return cursor.fetchone()[0]


def increment(handler, times: int, errors: list) -> None:
    connection = handler["writers"]  # this thread's own
    try:
        for _ in range(times):
            with transaction.atomic(using="writers"), connection.cursor() as cursor:
                cursor.execute("SELECT n FROM counter")
                value = cursor.fetchone()[0]
                time.sleep(0.001)  # a read-modify-write that would lose updates without the lock
                cursor.execute("UPDATE counter SET n = %s", [value + 1])
    except Exception as error:
        errors.append(error)
    finally:
        connection.close()


def test_threads_of_one_process_take_turns_without_losing_a_write(connections):
    errors: list = []
    threads = [threading.Thread(target=increment, args=(connections, 40, errors)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert count(connections) == 240


def test_a_rolled_back_or_failed_transaction_hands_the_turn_on(connections):
    with pytest.raises(ZeroDivisionError), transaction.atomic(using="writers"):
        connections["writers"].cursor().execute("UPDATE counter SET n = 99")
        1 / 0
    errors: list = []
    other = threading.Thread(target=increment, args=(connections, 1, errors))
    started = time.monotonic()
    other.start()
    other.join(5)
    assert errors == [] and not other.is_alive()
    assert time.monotonic() - started < 1
    assert count(connections) == 1  # the rolled-back 99 never landed


HOLD = """
import sqlite3, sys, time
other = sqlite3.connect(sys.argv[1], isolation_level=None)
other.execute("BEGIN " + (sys.argv[3] if len(sys.argv) > 3 else "IMMEDIATE"))
print("held", flush=True)
time.sleep(float(sys.argv[2]))
other.execute("COMMIT")
"""


def test_another_process_holding_the_file_is_waited_out(connections):
    path = connections["writers"].settings_dict["NAME"]
    other = subprocess.Popen([sys.executable, "-c", HOLD, path, "0.3"], stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "held"
    started = time.monotonic()
    with transaction.atomic(using="writers"):
        connections["writers"].cursor().execute("UPDATE counter SET n = n + 1")
    waited = time.monotonic() - started
    assert other.wait(5) == 0
    assert count(connections) == 1
    # It went on soon after the other's commit, not at the end of its timeout (2 s).
    assert 0.2 < waited < 1.0


def test_a_hold_longer_than_the_timeout_is_database_is_locked(connections):
    path = connections["writers"].settings_dict["NAME"]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"), transaction.atomic(using="writers"):
            connections["writers"].cursor().execute("UPDATE counter SET n = n + 1")
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The failed try left nothing held: the next one goes through at once.
    with transaction.atomic(using="writers"):
        connections["writers"].cursor().execute("UPDATE counter SET n = n + 5")
    assert count(connections) == 5


def test_a_new_connection_waits_out_a_hold_while_it_sets_the_journal_mode(connections):
    # While another connection holds the file (as the last one to close does,
    # to checkpoint the WAL), the init commands of a new one find it locked.
    path = connections["writers"].settings_dict["NAME"]
    connections["writers"].close()
    plain = sqlite3.connect(path, isolation_level=None)
    plain.execute("PRAGMA journal_mode=DELETE")
    plain.close()
    other = subprocess.Popen([sys.executable, "-c", HOLD, path, "0.3", "EXCLUSIVE"], stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "held"
    started = time.monotonic()
    assert count(connections) == 0  # a new connection: its init command sets WAL again
    waited = time.monotonic() - started
    assert other.wait(5) == 0
    assert 0.2 < waited < 1.0
    with connections["writers"].cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
