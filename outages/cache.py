"""A Redis cache that degrades instead of failing when Redis is away.

The cache holds nothing the site cannot do without (rate-limit counters, the
map's GeoJSON, the reports notice): when Redis is down or slow, reads miss,
writes are dropped, counters start again from nothing, and the request is
served from the database. After a failure the cache is skipped for a short
while (`RETRY_AFTER`), so an outage costs one short timeout, not one per call.

    CACHES = {"default": {
        "BACKEND": "outages.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    }}
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

RETRY_AFTER = 2.0


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _call(self, fallback, method, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback()
        try:
            return method(*args, **kwargs)
        except RedisError as error:
            with self._lock:
                if time.monotonic() >= self._down_until:
                    log.warning(
                        "cache unavailable (%s); serving without it for %.0fs", error.__class__.__name__, RETRY_AFTER
                    )
                self._down_until = time.monotonic() + RETRY_AFTER
            return fallback()

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call(lambda: default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(lambda: False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._call(dict, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(lambda: False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        # Callers treat ValueError as "no such counter" and start it again.
        def missing():
            raise ValueError(f"Key {key!r} not found (cache unavailable)")

        return self._call(missing, super().incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call(lambda: None, super().delete_many, keys, version)

    def clear(self):
        return self._call(lambda: False, super().clear)
