"""At most a few HTTP requests inside Django's handler at once per process,
each run on one of as many long-lived threads.

Under daphne every request Django handles would run in a thread of its own,
started for it, and the threads share one interpreter lock. In a storm of
form posts (callbacks, reports) sixteen threads take turns every few
milliseconds, so a request that holds the database's write lock finishes
sixteen times slower and the others queue behind it; starting a thread per
request cost about a tenth of the process's time on top. Requests beyond the
bound wait on the event loop, where waiting costs nothing, and run in the
order they came. Each admitted request takes a free slot, and all its sync
code (views, middleware, signals) runs on that slot's one thread, as Django
needs: a thread-sensitive context with the slot's executor, which Django's
own inner context then uses. Websockets and the cached answers of the fast
path are not counted.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext


class BoundedApp:
    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit
        # Bound to the loop on first use (daphne's, or a test's).
        self.slots = asyncio.Semaphore(limit)
        self.threads = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{n}") for n in range(max(limit, 0))
        ]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.limit <= 0:
            return await self.app(scope, receive, send)
        async with self.slots:
            # The semaphore leaves one executor free for every request it admits.
            executor = self.threads.pop()
            try:
                async with ThreadSensitiveContext(executor=executor):
                    return await self.app(scope, receive, send)
            finally:
                self.threads.append(executor)
