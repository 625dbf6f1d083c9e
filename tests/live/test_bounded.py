"""At most WEB_CONCURRENT_REQUESTS requests inside Django's handler at once;
the rest wait their turn in order, and websockets are never held back."""

import asyncio
import threading

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings

from outages.live.bounded import BoundedApp


class Inner:
    """Stands for Django's handler: records how many calls are inside at once."""

    def __init__(self):
        self.inside = 0
        self.most = 0
        self.order: list[int] = []

    async def __call__(self, scope, receive, send):
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.order.append(scope["n"])
        await asyncio.sleep(0.02)
        self.inside -= 1
        await send({"type": "done", "n": scope["n"]})


async def call_all(app, kind: str, count: int) -> list[int]:
    answered: list[int] = []

    async def one(n):
        async def send(message):
            answered.append(message["n"])

        await app({"type": kind, "n": n}, None, send)

    await asyncio.gather(*(one(n) for n in range(count)))
    return answered


async def test_requests_beyond_the_bound_wait_their_turn_in_order():
    inner = Inner()
    answered = await call_all(BoundedApp(inner, 3), "http", 12)
    assert inner.most == 3
    assert sorted(answered) == list(range(12))
    assert inner.order == list(range(12))


async def test_websockets_and_a_bound_of_zero_are_not_held_back():
    inner = Inner()
    await call_all(BoundedApp(inner, 3), "websocket", 12)
    assert inner.most == 12
    unbounded = Inner()
    await call_all(BoundedApp(unbounded, 0), "http", 12)
    assert unbounded.most == 12


def test_the_shipped_application_bounds_django_behind_the_fast_path():
    from statuspage.asgi import application

    front = application.application_mapping["http"]
    assert isinstance(front.app, BoundedApp)
    assert front.app.limit == settings.WEB_CONCURRENT_REQUESTS == 4


async def test_each_request_runs_its_sync_code_on_one_of_the_slots_threads():
    """As many threads as the bound serve every request, each request's sync
    calls on one thread: no thread started per request."""
    threads_of: dict[int, set[int]] = {}

    async def inner(scope, receive, send):
        # Django's handler opens its own context inside ours, as ASGIHandler does.
        async with ThreadSensitiveContext():
            for _ in range(3):
                ident = await sync_to_async(threading.get_ident)()
                threads_of.setdefault(scope["n"], set()).add(ident)
                await asyncio.sleep(0.001)
        await send({"type": "done", "n": scope["n"]})

    answered = await call_all(BoundedApp(inner, 3), "http", 30)
    assert sorted(answered) == list(range(30))
    assert all(len(idents) == 1 for idents in threads_of.values())
    assert len(set().union(*threads_of.values())) == 3
