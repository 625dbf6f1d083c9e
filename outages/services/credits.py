"""Service credits, write side: record each threshold an ongoing outage has
passed, once (CreditCrossing), and push the changed fragments live at that
moment, so the notice appears on open pages without an operator doing
anything. outages.jobs runs it every tick; the maths is outages.queries.credits.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Prefetch

from .. import events
from ..models import CreditCrossing, Incident
from ..queries.credits import credits_for, with_credit_data

# Recording crossings --------------------------------------


def push_credit_crossings(now: datetime) -> int:
    """Record each threshold an ongoing outage has passed, once, and push the
    changed fragments live. Idempotent: a crossing already recorded is skipped,
    and two schedulers racing record it once (unique constraint)."""
    incidents = with_credit_data(
        Incident.objects.active()
        .filter(pk__in=Incident.objects.filter(services__credit_policies__active=True).values("pk"))
        .prefetch_related(
            Prefetch("credit_crossings", queryset=CreditCrossing.objects.only("incident_id", "area_id", "policy_id"))
        )
    )
    recorded = 0
    for incident in incidents:
        seen = {(crossing.area_id, crossing.policy_id) for crossing in incident.credit_crossings.all()}
        fresh = [credit for credit in credits_for(incident, now) if (credit.area.pk, credit.policy.pk) not in seen]
        if not fresh:
            continue
        area_ids = set()
        with transaction.atomic():
            for credit in fresh:
                _, created = CreditCrossing.objects.get_or_create(
                    incident=incident,
                    area=credit.area,
                    policy=credit.policy,
                    defaults={"crossed_at": credit.crossed_at, "recorded_at": now},
                )
                if created:
                    area_ids.add(credit.area.pk)
                    recorded += 1
            if area_ids:
                events.incident_changed(incident, area_ids=area_ids)
    return recorded
