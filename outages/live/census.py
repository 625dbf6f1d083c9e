"""How many pages are open, per live group, across every server process.

Each process's Relay knows its own connected clients by group. Once a second
it looks at them and, when they changed (or at least every CENSUS_REFRESH
seconds, to stay alive), writes them to the shared cache in a slot of its own:
one of CENSUS_SLOTS keys, claimed with cache.add and kept by refreshing it
before CENSUS_TTL runs out. A process that dies stops refreshing; its slot
expires and its clients stop counting within CENSUS_TTL seconds.

The console reads every slot (one get_many) and adds up the groups a change
reaches (the status group, the incident's areas and the incident itself):
"Showing now on N open pages". With REDIS_URL the cache is shared by every
process; without it (the embedded default, one process) the local-memory
cache is shared by the relay and the console of that one process.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache

from .. import i18n
from . import wake
from .fragments import LINKED

log = logging.getLogger(__name__)

CENSUS_SLOTS = 64
CENSUS_TTL = 30
CENSUS_REFRESH = 10


def slot_key(number: int) -> str:
    return f"live-census:{number}"


def counts_of(members: dict[tuple[str, str], set]) -> dict[str, int]:
    """{group: clients} over every language of the group."""
    counts: Counter[str] = Counter()
    for (group, _language), consumers in list(members.items()):
        if consumers:
            counts[group] += len(consumers)
    return dict(counts)


def languages_of(members: dict[tuple[str, str], set]) -> dict[str, list[str]]:
    """{group: the languages its clients read}, each language once (a ?lang= link's too)."""
    languages: dict[str, set[str]] = {}
    for (group, client_variant), consumers in list(members.items()):
        if consumers:
            languages.setdefault(group, set()).add(client_variant.removesuffix(LINKED))
    return {group: sorted(codes) for group, codes in languages.items()}


class Census:
    """One process's entry in the shared census."""

    def __init__(self):
        self.process = uuid.uuid4().hex
        self.slot: int | None = None

    def write(self, counts: dict[str, int], languages: dict[str, list[str]] | None = None) -> None:
        entry = {"process": self.process, "counts": counts, "at": time.time()}
        if languages is not None:
            entry["languages"] = languages
        if _local_cache():
            # This process's memory is no one else's: publishers elsewhere read the file.
            wake.write_census(entry)
        if self.slot is not None:
            held = cache.get(slot_key(self.slot))
            if held is not None and held.get("process") == self.process:
                cache.set(slot_key(self.slot), entry, CENSUS_TTL)
                return
            self.slot = None  # expired (a long pause) and perhaps taken: claim another
        for number in range(CENSUS_SLOTS):
            if cache.add(slot_key(number), entry, CENSUS_TTL):
                self.slot = number
                return
        log.warning("live census: all %d slots are taken; this process's clients are not counted", CENSUS_SLOTS)

    def release(self) -> None:
        if _local_cache():
            wake.remove_census()
        if self.slot is not None:
            held = cache.get(slot_key(self.slot))
            if held is not None and held.get("process") == self.process:
                cache.delete(slot_key(self.slot))
            self.slot = None


async def keep(relay) -> None:
    """The Relay's task: record its clients per group when they change."""
    census = Census()
    last: tuple | None = None
    written_at = 0.0
    try:
        while True:
            counts, languages = counts_of(relay.members), languages_of(relay.members)
            now = time.monotonic()
            if (counts, languages) != last or now - written_at >= CENSUS_REFRESH:
                try:
                    await asyncio.to_thread(census.write, counts, languages)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("live census write failed; retrying", exc_info=True)
                else:
                    last, written_at = (counts, languages), now
            await asyncio.sleep(settings.LIVE_CENSUS_SECONDS)
    except asyncio.CancelledError:
        try:
            census.release()
        except Exception:
            pass
        raise


def _local_cache() -> bool:
    return isinstance(caches["default"], LocMemCache)


def _fresh(entries) -> list[dict]:
    horizon = time.time() - CENSUS_TTL
    return [entry for entry in entries if entry and entry.get("at", 0) >= horizon]


def _entries() -> list[dict]:
    return _fresh(cache.get_many([slot_key(number) for number in range(CENSUS_SLOTS)]).values())


def open_pages(groups: Iterable[str]) -> int:
    """Clients connected now, over every process, to any of these groups."""
    wanted = set(groups)
    return sum(count for entry in _entries() for group, count in entry.get("counts", {}).items() if group in wanted)


def listening() -> dict[str, set[str]] | None:
    """{group: the languages read in it now, over every process}, or None when
    that is not known here: no process has written yet, or Redis is away, or
    the cache is this process's own and the database is not an SQLite file
    (on the embedded default the census files beside it are read instead,
    outages.live.wake). A process whose entry names no languages (an older
    release during a rolling deploy) counts as reading them all.

    A publisher renders only what is read (fragments.render_change); a client
    the census has not seen yet (it connected within the last second) is
    served by its relay from the database (Relay.deliver)."""
    entries = _fresh(wake.read_census()) if _local_cache() else _entries()
    if not entries:
        return None
    every = set(i18n.languages())
    read: dict[str, set[str]] = {}
    for entry in entries:
        named = entry.get("languages")
        for group in entry.get("counts", {}):
            read.setdefault(group, set()).update(every if named is None else named.get(group, every))
    return read
