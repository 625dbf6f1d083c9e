"""The write side: every write, each in a transaction; what must happen after
it (live push, notifications) is handed to outages.events, which runs it on
commit, so a rolled-back write tells nobody anything.

- incidents: open, update, resolve, edit, maintenance windows
- subscriptions: subscribe, confirm, change, pause, delete
- push_subscriptions: a browser's push subscription follows and unfollows areas
- problem_reports: take a customer's report, open an incident from reports
- credits: record an outage's credit thresholds as they pass
- contact_requests: callbacks and messages to the local team, their promises and wait credits
- area_import: areas and regions from GeoJSON or CSV
- api_tokens: create, verify and revoke management API tokens
- audit: the audit log rows every write leaves
- limits: the abuse counters of the public forms

Imports: models, events, the read side (outages.queries) and core helpers.
The incident functions are re-exported here: services.post_update(...).
"""

from .incidents import (
    KEEP,
    STALE_MESSAGE,
    add_areas,
    clean_message_translations,
    complete_maintenance,
    edit_incident,
    open_incident,
    post_update,
    resolve,
    resolve_many,
    schedule_maintenance,
    start_maintenance,
    validate_new_incident,
    validate_update,
)

__all__ = [
    "KEEP",
    "STALE_MESSAGE",
    "add_areas",
    "clean_message_translations",
    "complete_maintenance",
    "edit_incident",
    "open_incident",
    "post_update",
    "resolve",
    "resolve_many",
    "schedule_maintenance",
    "start_maintenance",
    "validate_new_incident",
    "validate_update",
]
