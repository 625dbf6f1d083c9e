"""The client's address: decided here, once, for every rate limit, report
source, sign-in throttle, subscribe limit and websocket cap.

`TRUSTED_PROXIES` says how many reverse proxies we run in front of the app
(default 0: the address is the connection's, REMOTE_ADDR). With N proxies,
the address is the one the outermost of them saw: the Nth entry from the
right of X-Forwarded-For, since each of our proxies appends (or, as the
shipped nginx does, sets) the address it received the request from.
Whatever a client writes into the header itself sits further left and is
never read. Without the header (a request that did not come through the
proxies), the connection's address counts.

`network()` groups addresses as limits count them: an IPv4 address, or the
/64 of an IPv6 one (one household or phone; its owner has the whole /64).

No imports from the rest of outages: services, views, admin and consumers
all use it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

UNKNOWN = "unknown"


def _valid(value: str) -> str | None:
    value = (value or "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def choose(remote_addr: str, forwarded_for: str | None, trusted_proxies: int | None = None) -> str:
    """The client's address from the connection's and X-Forwarded-For (what our proxies added)."""
    trusted = settings.TRUSTED_PROXIES if trusted_proxies is None else trusted_proxies
    if trusted > 0 and forwarded_for:
        entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
        if entries:
            # Fewer entries than proxies: the request skipped one; the leftmost is all we have.
            chosen = _valid(entries[-trusted] if len(entries) >= trusted else entries[0])
            if chosen:
                return chosen
    return _valid(remote_addr) or UNKNOWN


def of_request(request) -> str:
    return choose(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR"))


def of_scope(scope) -> str:
    """The same for an ASGI scope (websockets)."""
    client = scope.get("client") or ("", 0)
    forwarded = None
    for name, value in scope.get("headers") or ():
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1") if forwarded is None else f"{forwarded}, {value.decode('latin-1')}"
    return choose(client[0] or "", forwarded)


def network(address: str) -> str:
    """An IPv4 address, or the /64 of an IPv6 one; IPv4-mapped IPv6 counts as IPv4."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def network_of_request(request) -> str:
    return network(of_request(request))


def network_of_scope(scope) -> str:
    return network(of_scope(scope))
