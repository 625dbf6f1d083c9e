"""What happens after a write commits: the live push and notifications.

Services call these inside their transaction; the work is deferred with
transaction.on_commit, so a rolled-back write announces nothing.
"""

from functools import partial

from django.db import transaction


def incident_changed(incident, *, area_ids: set[int], update=None) -> None:
    """`update`: the timeline entry this change posted (open, update, resolve), if
    any: subscribers are told about it. Edits of facts alone notify nobody."""
    if update is not None:
        from . import notifications

        # Recorded in this transaction; the task is enqueued on commit.
        notifications.record_event(update, area_ids)
    transaction.on_commit(partial(_announce, incident.pk, frozenset(area_ids)))


def _announce(incident_id: int, area_ids: frozenset[int]) -> None:
    # Imported late: the live layer renders templates and needs the app registry.
    from . import live

    live.publish_change(incident_id=incident_id, area_ids=area_ids)


def area_changed(*, area_ids: set[int]) -> None:
    """Something an area page shows changed without an incident changing
    (the customer-reports notice): push the areas' status cards again."""
    transaction.on_commit(partial(_announce, None, frozenset(area_ids)))


def public_data_changed(*, area_ids=()) -> None:
    """Something the public pages show changed outside an incident (areas or
    regions edited or imported, team contacts, credit policies, report
    thresholds...): on commit, bump the cached pages' status version and push
    the banner (and these areas' cards) again, like any change."""
    transaction.on_commit(partial(_announce, None, frozenset(area_ids)))
