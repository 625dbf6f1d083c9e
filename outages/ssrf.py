"""Webhook URLs must not reach inside the network (SSRF).

Checked twice: when someone subscribes (a clear error on the form) and again
at every connection, on the addresses actually connected to, so a name that
later resolves to a private address (DNS rebinding) is still refused. Only
http(s), no redirects followed, short timeouts.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 500
# Cloud metadata endpoints, refused even where a setting allows loopback.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeURL(ValueError):
    """A URL we will not connect to; the message is for the person who gave it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse(url: str) -> Target:
    url = (url or "").strip()
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(_("The URL is too long."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL(_("This is not a valid URL.")) from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeURL(_("Only http:// and https:// URLs can receive webhooks."))
    if not parts.hostname:
        raise UnsafeURL(_("The URL needs a host name."))
    if parts.username or parts.password:
        raise UnsafeURL(_("The URL must not contain a user name or password."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215
# Where RFC 6052 puts the IPv4 address for each prefix length: (start bit, bits)
# runs, bit 0 the most significant; bits 64-71 (the "u" octet) are skipped.
NAT64_LAYOUTS = {
    48: ((48, 16), (72, 16)),
    56: ((56, 8), (72, 24)),
    64: ((72, 32),),
    96: ((96, 32),),
}


def _bits(value: int, start: int, length: int) -> int:
    return (value >> (128 - start - length)) & ((1 << length) - 1)


def _nat64(ip: ipaddress.IPv6Address, lengths) -> list[ipaddress.IPv4Address]:
    found = []
    for length in lengths:
        v4 = 0
        for start, count in NAT64_LAYOUTS[length]:
            v4 = (v4 << count) | _bits(int(ip), start, count)
        found.append(ipaddress.IPv4Address(v4))
    return found


def _unwrap(ip: ipaddress._BaseAddress) -> list[ipaddress._BaseAddress]:
    """The IPv4 addresses an IPv6 one may stand for (::ffff:10.0.0.1, 6to4,
    NAT64), else the address itself. The local-use NAT64 prefix may be used
    with any RFC 6052 prefix length inside it, so every layout counts."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return [ip.ipv4_mapped]
        if ip.sixtofour:
            return [ip.sixtofour]
        if ip in NAT64_WELL_KNOWN:
            return _nat64(ip, [96])
        if ip in NAT64_LOCAL_USE:
            return _nat64(ip, NAT64_LAYOUTS)
    return [ip]


def forbidden(ip: ipaddress._BaseAddress) -> bool:
    """True for anything but a public unicast address (loopback only if allowed)."""
    return any(_forbidden(candidate) for candidate in _unwrap(ip))


def _forbidden(ip: ipaddress._BaseAddress) -> bool:
    if ip in METADATA:
        return True
    if ip.is_loopback and settings.WEBHOOK_ALLOW_LOOPBACK:
        return False
    # is_global is False for private, loopback, link-local, shared (100.64/10),
    # unique-local (fc00::/7), documentation, reserved and unspecified ranges.
    return not ip.is_global or ip.is_multicast


def resolve(target: Target) -> list[str]:
    """Every address the host resolves to; all must be allowed, or none is used."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(_("The host name could not be resolved.")) from None
    addresses = []
    for *_rest, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if forbidden(ip):
            raise UnsafeURL(_("This URL points to a private or reserved network address."))
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise UnsafeURL(_("The host name could not be resolved."))
    return addresses


def check(url: str) -> Target:
    """At subscribe time: the URL is well formed and resolves only to public addresses."""
    target = parse(url)
    resolve(target)
    return target


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, ip: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, ip: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        # Certificate checked against the host name, connection to the vetted address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Response:
    status: int
    location: str = ""


def post(url: str, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Response:
    """POST to a vetted address of the URL's host. Redirects are returned, never followed.

    Raises UnsafeURL (refused, permanent) or OSError (network trouble, temporary)."""
    target = parse(url)
    addresses = resolve(target)  # at connect time: DNS may have changed since subscribing
    timeout = timeout or settings.WEBHOOK_TIMEOUT
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    last_error: OSError | None = None
    for ip in addresses:
        connection = connection_class(target, ip, timeout)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(64 * 1024)
            return Response(response.status, response.getheader("Location", ""))
        except (OSError, http.client.HTTPException) as error:
            last_error = error if isinstance(error, OSError) else OSError(str(error))
        finally:
            connection.close()
    raise last_error or OSError("no address to connect to")
