"""Where the processes of one SQLite database find each other, with no channel
layer or shared cache between them: wake-up sockets and census files.

On the embedded default (SQLite, the in-memory layer) a change made in another
process than the server (`manage.py incident update`, the worker, the
scheduler) reached the server only by its outbox poll, up to
LIVE_OUTBOX_POLL_SECONDS later. Now each server process's relay listens on a
Unix datagram socket in a directory beside the SQLite file (`<file>.wake/`),
and the publisher, once the change's outbox row is committed, sends one empty
datagram to every socket there: the relay polls the outbox at once.

Each relay also keeps its live census (which groups and languages its
clients read) in `<file>.wake/<pid>.census`, so that a publisher in another
process renders only those (census.listening), as it does with Redis.

A datagram carries nothing: it only brings the next poll forward, and what is
delivered is still read from the database, so a lost or forged one costs at
most a poll. The directory is the owner's alone (0700). Anything that fails
here (no SQLite, a path too long for a socket, a full buffer) leaves the poll
on its interval, as before.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import socket
from pathlib import Path

from django.db import connection

log = logging.getLogger(__name__)

# sockaddr_un holds 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107


def directory() -> Path | None:
    """Where this database's relays listen, or None if it is not an SQLite file."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(f"{name}.wake")


def listen() -> socket.socket | None:
    """A bound, non-blocking datagram socket for this process, or None."""
    where = directory()
    if where is None:
        return None
    path = where / f"{os.getpid()}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        log.info("outbox wake-up off: %s is too long for a socket path", path)
        return None
    try:
        where.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a process of the same pid before a reboot
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.setblocking(False)
    except OSError:
        log.warning("outbox wake-up off: cannot listen at %s", path, exc_info=True)
        return None
    # The process may end without the relay stopping (daphne exits around it);
    # a socket left by a killed one is removed by the next publisher.
    _remove_at_exit(path)
    return sock


_at_exit: set[Path] = set()


def _remove_at_exit(path: Path) -> None:
    if path not in _at_exit:  # once per file: the census is rewritten every few seconds
        _at_exit.add(path)
        atexit.register(_remove, path)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def close(sock: socket.socket) -> None:
    name = sock.getsockname()
    sock.close()
    with contextlib.suppress(OSError):
        os.unlink(name)


def everyone() -> None:
    """One empty datagram to every relay of this database; a socket nobody
    holds any more (a process that died) is removed."""
    where = directory()
    if where is None:
        return
    try:
        paths = list(where.glob("*.sock"))
    except OSError:
        return
    if not paths:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for path in paths:
            try:
                sender.sendto(b"", str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    path.unlink()
            except OSError:
                pass  # its buffer is full: it has wake-ups pending anyway


def write_census(entry: dict) -> None:
    """This process's census entry, replaced whole (a reader never sees half of one)."""
    where = directory()
    if where is None:
        return
    path = where / f"{os.getpid()}.census"
    partial = where / f"{os.getpid()}.census.partial"
    try:
        where.mkdir(mode=0o700, exist_ok=True)
        partial.write_text(json.dumps(entry))
        os.replace(partial, path)
    except OSError:
        log.warning("live census: cannot write %s", path, exc_info=True)
        return
    _remove_at_exit(path)


def remove_census() -> None:
    where = directory()
    if where is not None:
        _remove(where / f"{os.getpid()}.census")


def read_census() -> list[dict]:
    """Every relay's census entry on this database (old ones are the caller's to ignore)."""
    where = directory()
    if where is None:
        return []
    entries = []
    with contextlib.suppress(OSError):
        for path in where.glob("*.census"):
            try:
                entries.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # removed meanwhile, or not ours
    return entries
