"""API tokens for the management API: created once, stored hashed, revocable.

A token reads "sp_<prefix>_<secret>"; the database keeps the prefix (to tell
tokens apart in the admin) and the SHA-256 of the whole token. Only the
Authorization header authenticates: cookies and sessions never do.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from ..models import ApiToken

SCHEME_NAMES = {"bearer", "token"}
# last_used_at is written at most this often per token, not on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret(token: ApiToken) -> str:
    """Give an unsaved token its secret; the raw token is returned here and never again."""
    token.prefix = secrets.token_hex(4)
    raw = f"sp_{token.prefix}_{secrets.token_urlsafe(32)}"
    token.digest = digest(raw)
    return raw


def create_token(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`, and the raw token (shown once)."""
    token = ApiToken(user=user, name=name.strip())
    raw = new_secret(token)
    token.save()
    return token, raw


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def raw_token_from_header(header: str) -> str | None:
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() not in SCHEME_NAMES or not value.strip():
        return None
    return value.strip()


def authenticate(header: str) -> ApiToken | None:
    """The live token named by an Authorization header, with its active user; None otherwise."""
    raw = raw_token_from_header(header)
    if raw is None or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
