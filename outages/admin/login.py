"""Brute-force protection for the ops console login.

Failed logins are counted in the cache over a window, per username *from
one client address* and per client address (all usernames); past either
limit, attempts from that address (even with the right password) are refused
with the same clear message, whether or not the account exists, so the
throttle tells an attacker nothing about which usernames are real. Only the
attacking address is paused: the account's owner, signing in from anywhere
else, is never locked out by someone else's guesses. A successful login
clears the count of its username from that address.

The address is outages.client_address's (an IPv4 address or an IPv6 /64,
TRUSTED_PROXIES): X-Forwarded-For from the client does not reset it.

If the cache (Redis) is unavailable the counters start from nothing: the
login keeps working, unthrottled, until it is back (see outages/cache.py).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .. import client_address


def _key(kind: str, value: str) -> str:
    return "login-fail:" + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _user_key(username: str, address: str) -> str:
    return _key("user", (username or "").strip().lower() + "\n" + (address or "unknown"))


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    return [
        (_user_key(username, address), settings.LOGIN_FAILURES_PER_USERNAME),
        (_key("ip", address or "unknown"), settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


def blocked(username: str, address: str) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(username, address))


def record_failure(username: str, address: str) -> None:
    for key, _limit in _keys(username, address):
        cache.add(key, 0, settings.LOGIN_THROTTLE_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.LOGIN_THROTTLE_SECONDS)


def record_success(username: str, address: str) -> None:
    cache.delete(_user_key(username, address))


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": _(
            "Too many failed sign-in attempts. Sign-in is paused for this account and this address; "
            "try again in %(minutes)d minutes."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address.network_of_request(self.request) if self.request else ""
        if blocked(username, address):
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_THROTTLE_SECONDS // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            record_failure(username, address)
            raise
        record_success(username, address)
        return cleaned
