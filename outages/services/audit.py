"""The audit log: who changed what and when, one row per write.

Called by the service functions inside their transaction, so a rolled-back
write leaves no entry and every write (admin, command line, API, periodic
jobs) leaves one.
"""

from __future__ import annotations

from datetime import datetime

from ..models import AuditEntry


def as_text(value) -> str | None:
    """A JSON-safe, readable form of a field value."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, list, tuple)):
        return ", ".join(sorted(str(item) for item in value))
    return str(value)


def snapshot(obj, fields) -> dict[str, str | None]:
    return {name: as_text(getattr(obj, name)) for name in fields}


def diff(before: dict, after: dict) -> dict[str, list]:
    """{"field": [old, new]} for the fields that changed."""
    return {name: [before.get(name), after.get(name)] for name in after if before.get(name) != after.get(name)}


def record(incident, action: str, *, user=None, changes=None, update=None, at=None) -> AuditEntry:
    fields = {
        "incident": incident,
        "action": action,
        "user": user if _is_user(user) else None,
        "changes": changes or {},
        "update": update,
    }
    if at is not None:
        fields["created_at"] = at
    return AuditEntry.objects.create(**fields)


def _is_user(user) -> bool:
    # AnonymousUser and None are recorded as "the system".
    return user is not None and getattr(user, "pk", None) is not None
