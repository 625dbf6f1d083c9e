"""The incident page of the console, read top-down as the work goes.

1. What customers see now: the public card, rendered by the same fragment the
   public page and the live push use, and the latest timeline entries.
2. Post an update, with its own button, right below (no scrolling at 1280x800).
3. The incident's details (areas, services, facts), collapsed, with their own save.
A resolved incident says so at the top and offers Reopen instead of an empty form.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from ..models import Incident
from ..queries.current import incident_snapshot
from . import quick_eta

RECENT_UPDATES = 2


def reopening(request) -> bool:
    return request.GET.get("reopen") == "1" or request.POST.get("reopen") in ("on", "1", "true")


UPDATE_FIELDS = (
    "update_status",
    "update_message",
    "update_eta",
    "eta_choice",
    "update_crew_status",
    "update_next_update_at",
)


def context(request, incident: Incident, form=None) -> dict:
    snapshot = incident_snapshot(incident)
    updates = list(incident.updates.select_related("author").order_by("-created_at", "-id"))
    now = timezone.now()
    closed = incident.is_closed
    # A refused update on a resolved incident shows the form again, with the reason.
    refused = form is not None and form.is_bound and any(name in form.errors for name in UPDATE_FIELDS)
    return {
        "card": render_to_string("outages/incident.html#card", {**snapshot, "heading": False}),
        "recent_updates": updates[:RECENT_UPDATES],
        "older_updates": updates[RECENT_UPDATES:],
        "closed": closed,
        "reopening": closed and reopening(request),
        "show_update_form": not closed or reopening(request) or refused,
        "eta_choices": quick_eta.previews(now, incident.eta),
        "eta_current_words": quick_eta.words(incident.eta, now) if incident.eta and incident.eta > now else "",
        "zone_label": quick_eta.zone_label(now),
    }
