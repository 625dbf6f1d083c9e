"""At most a few HTTP requests inside Django's handler at once per process.

Under daphne every request Django handles runs in a thread of its own, and
the threads share one interpreter lock. In a storm of form posts (callbacks,
reports) sixteen threads take turns every few milliseconds, so a request that
holds the database's write lock finishes sixteen times slower and the others
queue behind it. Requests beyond the bound wait on the event loop, where
waiting costs nothing, and run in the order they came. Websockets and the
cached answers of the fast path are not counted.
"""

import asyncio


class BoundedApp:
    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        # Bound to the loop on first use (daphne's, or a test's).
        self.slots = asyncio.Semaphore(limit)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.limit <= 0:
            return await self.app(scope, receive, send)
        async with self.slots:
            return await self.app(scope, receive, send)
