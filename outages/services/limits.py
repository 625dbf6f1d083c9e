"""Abuse limits shared by every public form: one counter, one refusal.

Counters live in Django's cache (local memory, or Redis when REDIS_URL is
set), so every process counts together; a refusal is answered with 429.
"""

from __future__ import annotations

from django.core.cache import cache


class RateLimited(Exception):
    """Too many requests: answered with 429, this message and, if known, Retry-After."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def hit(cache_key: str, timeout: int) -> int:
    """Count one use under cache_key, kept for timeout seconds; returns the count so far."""
    cache.add(cache_key, 0, timeout)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout)
        return 1
