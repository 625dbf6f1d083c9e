"""A websocket client that behaves like a live page, for fault and load tests.

It keeps what a page would show (every element with an id, swapped in by id
from each message, as the htmx ws extension does) and reconnects like the
browser: full-jitter exponential backoff (htmx's ws extension: a random delay
in [0, 1 s * 2^min(attempt, 6)]). Each (re)connect brings a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import random
import time
import xml.etree.ElementTree as ET

import html5lib
import websockets

NS = "{http://www.w3.org/1999/xhtml}"


def full_jitter(attempt: int, base: float = 1.0, cap_exponent: int = 6) -> float:
    """The htmx ws extension's default reconnect delay."""
    return random.random() * base * 2 ** min(attempt, cap_exponent)


def elements_by_id(html: str) -> dict[str, ET.Element]:
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=True)
    found = {}
    for element in fragment.iter():
        if isinstance(element.tag, str) and element.get("id"):
            found[element.get("id")] = element
    return found


def text_of(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def ids_under(element: ET.Element | None, prefix: str) -> set[str]:
    if element is None:
        return set()
    return {e.get("id") for e in element.iter() if isinstance(e.tag, str) and (e.get("id") or "").startswith(prefix)}


class LiveClient:
    def __init__(self, url: str, origin: str, *, base_delay: float = 1.0):
        self.url = url
        self.origin = origin
        self.base_delay = base_delay
        self.view: dict[str, ET.Element] = {}
        self.connected = asyncio.Event()
        self.connects = 0
        self.connected_at: list[float] = []  # time.monotonic() of each successful (re)connect
        self.closed_at: list[float] = []
        self.messages = 0
        self.last_message_at = 0.0
        self.task: asyncio.Task | None = None
        self._stopping = False

    def start(self) -> LiveClient:
        self.task = asyncio.ensure_future(self._run())
        return self

    async def stop(self) -> None:
        self._stopping = True
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                async with websockets.connect(
                    self.url, origin=self.origin, open_timeout=20, ping_interval=None, close_timeout=1, max_size=None
                ) as ws:
                    attempt = 0
                    self.connects += 1
                    self.connected_at.append(time.monotonic())
                    first = True
                    async for message in ws:
                        self.view.update(elements_by_id(message))
                        self.messages += 1
                        self.last_message_at = time.monotonic()
                        if first:
                            self.connected.set()
                            first = False
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
            self.connected.clear()
            self.closed_at.append(time.monotonic())
            # As htmx: the first retry waits up to 1 s, then 2, 4 ... 64 s.
            await asyncio.sleep(full_jitter(attempt, self.base_delay))
            attempt += 1

    def text(self, element_id: str) -> str:
        return text_of(self.view.get(element_id))
